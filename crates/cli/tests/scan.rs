//! `edgewise scan`, run as the real binary.

use std::process::Command;

fn edgewise(args: &[&str]) -> std::process::Output {
    match Command::new(env!("CARGO_BIN_EXE_edgewise"))
        .args(args)
        .output()
    {
        Ok(output) => output,
        Err(error) => panic!("running edgewise: {error}"),
    }
}

#[cfg(feature = "board-sim")]
#[test]
fn scan_of_the_sim_board_lists_its_chips() {
    for bus in ["i2c-1", "/dev/i2c-1"] {
        let output = edgewise(&["scan", "--board", "sim", "--bus", bus]);
        assert!(output.status.success(), "{output:?}");
        assert_eq!(
            String::from_utf8_lossy(&output.stdout),
            "i2c-1 on the sim board: 5 responding addresses\n\
             address  chip\n\
             0x40     ina219\n\
             0x44     sht3x\n\
             0x48     ads1x15\n\
             0x68     mpu6050\n\
             0x76     bme280\n"
        );
    }
}

#[cfg(not(feature = "board-rpi"))]
#[test]
fn a_board_not_built_in_says_which_feature_builds_it() {
    let output = edgewise(&["scan", "--board", "rpi", "--bus", "i2c-1"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "edgewise: this edgewise binary was built without the `rpi` board; rebuild it with \
         `--features board-rpi` (e.g. `cargo build --release -p edgewise --features board-rpi`)\n"
    );
}

#[test]
fn a_bus_that_is_not_i2c_is_refused() {
    let output = edgewise(&["scan", "--board", "sim", "--bus", "spi-0.0"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "edgewise: --bus `spi-0.0`: expected an I²C bus such as `/dev/i2c-1` or `i2c-1`\n"
    );
}
