//! Anomaly detection without a trained network.
