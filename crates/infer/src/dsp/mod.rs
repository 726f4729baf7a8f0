//! Feature extraction for sensor streams.
