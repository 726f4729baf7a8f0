//! Which read requests one poll sends: planned once, when the source is built.
//!
//! A round trip costs far more than the registers it carries (a request is 12 bytes, each
//! register 2 more), so points are merged: per register kind, points sorted by address go into
//! the same request while the request stays within [`MAX_REGISTERS_PER_READ`] registers and the
//! unused registers between two points are at most `max_gap`. So a poll costs one request per
//! run of points with no wider gap, and a run longer than 125 registers one more per 125: a
//! map of contiguous registers costs `⌈registers / 125⌉` requests per kind (a little more
//! when a split would cut a 32-bit value in two).

use std::fmt;

use super::config::{ModbusConfig, RegisterKind, MAX_REGISTERS_PER_READ};

/// One read request of a poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedRead {
    /// Holding or input registers.
    pub kind: RegisterKind,
    /// The first register's protocol address.
    pub start: u16,
    /// How many registers (1..=125).
    pub count: u16,
    /// The indices (into the configuration's points) of the points this request reads.
    pub points: Vec<usize>,
    /// Unused registers read through between points, as `(first, count)`.
    pub gaps: Vec<(u16, u16)>,
}

impl PlannedRead {
    /// The last register's protocol address.
    pub fn end(&self) -> u16 {
        self.start + (self.count - 1)
    }
}

impl fmt::Display for PlannedRead {
    /// `read of holding registers 0-9 (40001-40010, function 0x03)`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "read of {} registers {}-{} ({}-{}, function 0x{:02X})",
            self.kind,
            self.start,
            self.end(),
            self.kind.reference(self.start),
            self.kind.reference(self.end()),
            self.kind.function_code()
        )
    }
}

/// Where a point's registers are in the responses of a poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PointSlot {
    /// Which request.
    pub request: usize,
    /// Its first register's position in that request's response.
    pub offset: usize,
}

/// The requests for `config`'s points, and for each point (in configuration order) where its
/// registers are. The configuration must be valid (every point within the address space).
pub(crate) fn plan_reads(config: &ModbusConfig) -> (Vec<PlannedRead>, Vec<PointSlot>) {
    let mut order: Vec<usize> = (0..config.points.len()).collect();
    order.sort_by_key(|&i| (config.points[i].kind, config.points[i].address));

    let mut reads: Vec<PlannedRead> = Vec::new();
    let mut slots = vec![
        PointSlot {
            request: 0,
            offset: 0
        };
        config.points.len()
    ];
    for index in order {
        let point = &config.points[index];
        // Exclusive ends in u32: a point may end at register 65535.
        let first = u32::from(point.address);
        let end = first + u32::from(point.registers());
        let joins_last = reads.last().is_some_and(|read| {
            let read_end = u32::from(read.start) + u32::from(read.count);
            read.kind == point.kind
                && first <= read_end + u32::from(config.max_gap)
                && end.max(read_end) - u32::from(read.start) <= u32::from(MAX_REGISTERS_PER_READ)
        });
        let last_request = reads.len().saturating_sub(1);
        if let (true, Some(read)) = (joins_last, reads.last_mut()) {
            let read_end = u32::from(read.start) + u32::from(read.count);
            if first > read_end {
                read.gaps
                    .push((read.start + read.count, narrow(first - read_end)));
            }
            read.count = narrow(end.max(read_end) - u32::from(read.start));
            read.points.push(index);
            slots[index] = PointSlot {
                request: last_request,
                offset: usize::from(point.address - read.start),
            };
        } else {
            slots[index] = PointSlot {
                request: reads.len(),
                offset: 0,
            };
            reads.push(PlannedRead {
                kind: point.kind,
                start: point.address,
                count: point.registers(),
                points: vec![index],
                gaps: Vec::new(),
            });
        }
    }
    (reads, slots)
}

/// A register count or address already known to fit (at most 125, or within 0..=65535).
fn narrow(value: u32) -> u16 {
    u16::try_from(value).unwrap_or(u16::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modbus::config::{DataType, Point};

    fn config(max_gap: u16, points: &[(RegisterKind, u16, DataType)]) -> ModbusConfig {
        let mut config = ModbusConfig::new("plc", "127.0.0.1:502").max_gap(max_gap);
        for (i, &(kind, address, data_type)) in points.iter().enumerate() {
            config = config.point(Point::new(format!("p{i}"), kind, address, data_type));
        }
        config
    }

    fn spans(reads: &[PlannedRead]) -> Vec<(RegisterKind, u16, u16)> {
        reads.iter().map(|r| (r.kind, r.start, r.count)).collect()
    }

    use DataType::*;
    use RegisterKind::*;

    #[test]
    fn adjacent_points_of_one_kind_share_a_request_and_kinds_never_mix() {
        let map = config(
            0,
            &[
                (Holding, 2, F32),
                (Input, 0, U16),
                (Holding, 0, U32),
                (Input, 1, I16),
            ],
        );
        let (reads, slots) = plan_reads(&map);
        assert_eq!(spans(&reads), [(Holding, 0, 4), (Input, 0, 2)]);
        assert_eq!(
            slots[0],
            PointSlot {
                request: 0,
                offset: 2
            }
        );
        assert_eq!(
            slots[1],
            PointSlot {
                request: 1,
                offset: 0
            }
        );
        assert_eq!(
            slots[3],
            PointSlot {
                request: 1,
                offset: 1
            }
        );
        assert_eq!(reads[0].points, [2, 0]);
    }

    #[test]
    fn gaps_up_to_the_limit_are_read_through_and_wider_ones_split() {
        let map = config(
            3,
            &[(Holding, 0, U16), (Holding, 4, U16), (Holding, 9, U16)],
        );
        let (reads, _) = plan_reads(&map);
        // 1..=3 is a gap of 3 (read through); 5..=8 is a gap of 4 (split).
        assert_eq!(spans(&reads), [(Holding, 0, 5), (Holding, 9, 1)]);
        assert_eq!(reads[0].gaps, [(1, 3)]);
        assert!(reads[1].gaps.is_empty());
    }

    #[test]
    fn a_request_never_exceeds_125_registers() {
        // 100 contiguous f32 values: 200 registers, so two requests (125 + 75 would split a
        // value, so 124 + 76).
        let points: Vec<_> = (0..100).map(|i| (Input, i * 2, F32)).collect();
        let (reads, slots) = plan_reads(&config(0, &points));
        assert_eq!(spans(&reads), [(Input, 0, 124), (Input, 124, 76)]);
        assert_eq!(
            slots[62],
            PointSlot {
                request: 1,
                offset: 0
            }
        );
        // 300 u16 registers: ⌈300 / 125⌉ = 3 requests.
        let points: Vec<_> = (0..300).map(|i| (Holding, i, U16)).collect();
        let (reads, _) = plan_reads(&config(0, &points));
        assert_eq!(
            spans(&reads),
            [(Holding, 0, 125), (Holding, 125, 125), (Holding, 250, 50)]
        );
    }

    #[test]
    fn overlapping_points_and_the_last_register_are_planned() {
        // The same registers read as u32 and as two i16; a value ending at 65535.
        let map = config(
            0,
            &[
                (Holding, 10, U32),
                (Holding, 10, I16),
                (Holding, 11, I16),
                (Holding, 65534, F32),
            ],
        );
        let (reads, slots) = plan_reads(&map);
        assert_eq!(spans(&reads), [(Holding, 10, 2), (Holding, 65534, 2)]);
        assert_eq!(
            slots[2],
            PointSlot {
                request: 0,
                offset: 1
            }
        );
        assert_eq!(reads[1].end(), 65535);
        assert_eq!(
            reads[0].to_string(),
            "read of holding registers 10-11 (40011-40012, function 0x03)"
        );
    }
}
