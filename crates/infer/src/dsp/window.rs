//! Sliding and tumbling windows over interleaved multi-channel sample streams.

use super::DspError;

/// A view of `frames` consecutive frames of interleaved samples: frame `i` holds channel `c`
/// at `samples[i * channels + c]`, the layout a FIFO drain of a 3-axis accelerometer gives.
#[derive(Debug, Clone, Copy)]
pub struct Window<'a> {
    samples: &'a [f32],
    channels: usize,
    start_frame: u64,
}

impl<'a> Window<'a> {
    /// A window over `samples` interleaved across `channels`; its length must be a whole
    /// number of frames.
    pub fn from_interleaved(samples: &'a [f32], channels: usize) -> Result<Self, DspError> {
        if channels == 0 {
            return Err(DspError::NoChannels);
        }
        if !samples.len().is_multiple_of(channels) {
            return Err(DspError::PartialFrame {
                samples: samples.len(),
                channels,
            });
        }
        Ok(Self {
            samples,
            channels,
            start_frame: 0,
        })
    }

    /// Number of channels per frame.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Number of frames (samples per channel).
    pub fn frames(&self) -> usize {
        self.samples.len() / self.channels
    }

    /// Index in the stream of this window's first frame (0 for a window built from a slice).
    pub fn start_frame(&self) -> u64 {
        self.start_frame
    }

    /// The interleaved samples.
    pub fn interleaved(&self) -> &'a [f32] {
        self.samples
    }

    /// The samples of one channel, oldest first (empty if `channel` is out of range).
    pub fn channel(&self, channel: usize) -> impl ExactSizeIterator<Item = f32> + 'a {
        let (samples, channels) = (self.samples, self.channels);
        let frames = if channel < channels {
            samples.len() / channels
        } else {
            0
        };
        (0..frames).map(move |frame| samples[frame * channels + channel])
    }

    /// Copies one channel into `out`, which must hold exactly [`Window::frames`] samples.
    pub fn copy_channel(&self, channel: usize, out: &mut [f32]) -> Result<(), DspError> {
        if channel >= self.channels {
            return Err(DspError::NoSuchChannel {
                channel,
                channels: self.channels,
            });
        }
        if out.len() != self.frames() {
            return Err(DspError::WindowLength {
                expected: out.len(),
                got: self.frames(),
            });
        }
        for (slot, frame) in out.iter_mut().zip(self.samples.chunks_exact(self.channels)) {
            *slot = frame[channel];
        }
        Ok(())
    }
}

/// Cuts a stream of interleaved samples into windows of `size` frames, a new window every
/// `hop` frames: `hop < size` gives overlapping (sliding) windows, `hop == size` tumbling
/// windows, `hop > size` windows with gaps between them (the frames in a gap are dropped).
///
/// Input arrives in chunks of any length: a chunk may end in the middle of a frame and the
/// next one completes it. All buffers are allocated by [`Windower::new`]; pushing allocates
/// nothing.
#[derive(Debug, Clone)]
pub struct Windower {
    channels: usize,
    size: usize,
    hop: usize,
    /// Interleaved samples of the window being filled; capacity `size * channels`.
    buffer: Vec<f32>,
    /// Samples still to drop before buffering again (the gap when `hop > size`).
    skip: usize,
    /// Stream index of the frame at the front of `buffer`.
    front_frame: u64,
}

impl Windower {
    /// Windows of `size` frames of `channels` channels, one every `hop` frames.
    pub fn new(channels: usize, size: usize, hop: usize) -> Result<Self, DspError> {
        if channels == 0 {
            return Err(DspError::NoChannels);
        }
        if size == 0 || hop == 0 {
            return Err(DspError::EmptyWindow);
        }
        Ok(Self {
            channels,
            size,
            hop,
            buffer: Vec::with_capacity(size * channels),
            skip: 0,
            front_frame: 0,
        })
    }

    /// Non-overlapping windows of `size` frames.
    pub fn tumbling(channels: usize, size: usize) -> Result<Self, DspError> {
        Self::new(channels, size, size)
    }

    /// Frames per window.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Frames between the starts of consecutive windows.
    pub fn hop(&self) -> usize {
        self.hop
    }

    /// Channels per frame.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Appends interleaved `samples` and calls `on_window` with every window they complete,
    /// oldest first. Returns how many windows were completed.
    pub fn push(&mut self, mut samples: &[f32], mut on_window: impl FnMut(Window<'_>)) -> usize {
        let capacity = self.size * self.channels;
        let mut completed = 0;
        while !samples.is_empty() {
            if self.skip > 0 {
                let dropped = self.skip.min(samples.len());
                self.skip -= dropped;
                samples = &samples[dropped..];
                continue;
            }
            let take = (capacity - self.buffer.len()).min(samples.len());
            self.buffer.extend_from_slice(&samples[..take]);
            samples = &samples[take..];
            if self.buffer.len() == capacity {
                on_window(Window {
                    samples: &self.buffer,
                    channels: self.channels,
                    start_frame: self.front_frame,
                });
                completed += 1;
                self.advance();
            }
        }
        completed
    }

    /// The frames buffered towards the next window, fewer than a window's worth: what is left
    /// when a stream ends mid-window. `None` if no whole frame is buffered. A trailing partial
    /// frame (a chunk that ended mid-frame) is not part of it.
    pub fn partial(&self) -> Option<Window<'_>> {
        let whole = self.buffer.len() / self.channels * self.channels;
        (whole > 0).then(|| Window {
            samples: &self.buffer[..whole],
            channels: self.channels,
            start_frame: self.front_frame,
        })
    }

    /// Forgets everything buffered, e.g. after the source reported lost samples: the next
    /// window starts with the next pushed sample, so no window spans the gap.
    pub fn reset(&mut self, next_frame: u64) {
        self.buffer.clear();
        self.skip = 0;
        self.front_frame = next_frame;
    }

    /// Drops the oldest `hop` frames after a window was handed out.
    fn advance(&mut self) {
        let hop_samples = self.hop * self.channels;
        if self.hop < self.size {
            self.buffer.copy_within(hop_samples.., 0);
            self.buffer.truncate(self.buffer.len() - hop_samples);
        } else {
            self.skip = hop_samples - self.buffer.len();
            self.buffer.clear();
        }
        self.front_frame += self.hop as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Frame `i` of a 2-channel stream is (i, 100 + i).
    fn two_channel_stream(frames: usize) -> Vec<f32> {
        (0..frames)
            .flat_map(|i| [i as f32, 100.0 + i as f32])
            .collect()
    }

    fn collect(windower: &mut Windower, samples: &[f32]) -> Vec<(u64, Vec<f32>)> {
        let mut windows = Vec::new();
        windower.push(samples, |w| {
            windows.push((w.start_frame(), w.channel(0).collect()));
        });
        windows
    }

    #[test]
    fn sliding_windows_overlap_by_size_minus_hop() {
        let mut windower = Windower::new(2, 4, 2).unwrap();
        let windows = collect(&mut windower, &two_channel_stream(9));
        assert_eq!(
            windows,
            [
                (0, vec![0.0, 1.0, 2.0, 3.0]),
                (2, vec![2.0, 3.0, 4.0, 5.0]),
                (4, vec![4.0, 5.0, 6.0, 7.0]),
            ]
        );
        // Frames 6, 7 and 8 wait for the next window.
        let partial = windower.partial().unwrap();
        assert_eq!(partial.frames(), 3);
        assert_eq!(partial.start_frame(), 6);
        assert_eq!(
            partial.channel(1).collect::<Vec<_>>(),
            [106.0, 107.0, 108.0]
        );
    }

    #[test]
    fn tumbling_windows_do_not_overlap() {
        let mut windower = Windower::tumbling(2, 3).unwrap();
        let windows = collect(&mut windower, &two_channel_stream(7));
        assert_eq!(
            windows,
            [(0, vec![0.0, 1.0, 2.0]), (3, vec![3.0, 4.0, 5.0])]
        );
        assert_eq!(windower.partial().unwrap().frames(), 1);
    }

    #[test]
    fn hop_longer_than_size_skips_the_gap() {
        let mut windower = Windower::new(2, 2, 5).unwrap();
        let windows = collect(&mut windower, &two_channel_stream(13));
        assert_eq!(
            windows,
            [
                (0, vec![0.0, 1.0]),
                (5, vec![5.0, 6.0]),
                (10, vec![10.0, 11.0])
            ]
        );
    }

    #[test]
    fn chunks_that_split_frames_give_the_same_windows() {
        let stream = two_channel_stream(20);
        let mut whole = Windower::new(2, 5, 3).unwrap();
        let expected = collect(&mut whole, &stream);
        let mut chunked = Windower::new(2, 5, 3).unwrap();
        let mut got = Vec::new();
        // Odd chunk lengths: most chunks end mid-frame.
        for chunk in stream.chunks(3) {
            got.extend(collect(&mut chunked, chunk));
        }
        assert_eq!(got, expected);
        assert_eq!(got.len(), 6);
    }

    #[test]
    fn channels_are_deinterleaved() {
        let samples = [1.0, 10.0, 100.0, 2.0, 20.0, 200.0];
        let window = Window::from_interleaved(&samples, 3).unwrap();
        assert_eq!(window.frames(), 2);
        let mut y = [0.0; 2];
        window.copy_channel(1, &mut y).unwrap();
        assert_eq!(y, [10.0, 20.0]);
        assert_eq!(window.channel(2).collect::<Vec<_>>(), [100.0, 200.0]);
        assert_eq!(window.channel(3).count(), 0);
        assert!(matches!(
            window.copy_channel(3, &mut y),
            Err(DspError::NoSuchChannel { .. })
        ));
        assert!(matches!(
            Window::from_interleaved(&samples[..5], 3),
            Err(DspError::PartialFrame { .. })
        ));
    }

    #[test]
    fn a_partial_frame_is_not_a_partial_window() {
        let mut windower = Windower::new(3, 4, 4).unwrap();
        assert_eq!(windower.push(&[1.0, 2.0], |_| {}), 0);
        assert!(windower.partial().is_none());
        windower.push(&[3.0, 4.0], |_| {});
        let partial = windower.partial().unwrap();
        assert_eq!(partial.interleaved(), [1.0, 2.0, 3.0]);
    }

    #[test]
    fn reset_drops_the_buffered_frames() {
        let mut windower = Windower::new(1, 3, 1).unwrap();
        windower.push(&[1.0, 2.0], |_| {});
        windower.reset(50);
        let windows = collect(&mut windower, &[7.0, 8.0, 9.0]);
        assert_eq!(windows, [(50, vec![7.0, 8.0, 9.0])]);
    }
}
