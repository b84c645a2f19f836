//! Input held while no session is ready, bounded by how much user audio it
//! may keep: past the bound the oldest audio goes first (other inputs — text,
//! commits, tool results — are small and always kept).

use std::collections::VecDeque;
use understudy_adapters::ClientInput;

/// Inputs waiting for a ready session, oldest first.
#[derive(Debug)]
pub(super) struct InputBuffer {
    queue: VecDeque<ClientInput>,
    /// Most audio kept, in milliseconds.
    bound_ms: f64,
    /// Audio in `queue`, in milliseconds.
    audio_ms: f64,
    /// Audio dropped since the last [`InputBuffer::take_dropped_ms`].
    dropped_ms: f64,
}

impl InputBuffer {
    /// An empty buffer keeping at most `bound_ms` of audio.
    pub(super) fn new(bound_ms: u64) -> Self {
        InputBuffer {
            queue: VecDeque::new(),
            bound_ms: bound_ms as f64,
            audio_ms: 0.0,
            dropped_ms: 0.0,
        }
    }

    /// Keeps `input`, dropping the oldest audio while over the bound.
    /// Returns the audio dropped so far (ms) when this push is the first to
    /// drop any since the count was last taken: the moment to warn the front
    /// end, once.
    pub(super) fn push(&mut self, input: ClientInput) -> Option<u64> {
        if let ClientInput::Audio { pcm, sample_rate } = &input {
            self.audio_ms += pcm.duration_ms(*sample_rate);
        }
        self.queue.push_back(input);
        let mut dropped_now = 0.0;
        while self.audio_ms > self.bound_ms {
            let Some(index) = self
                .queue
                .iter()
                .position(|i| matches!(i, ClientInput::Audio { .. }))
            else {
                break;
            };
            if let Some(ClientInput::Audio { pcm, sample_rate }) = self.queue.remove(index) {
                let ms = pcm.duration_ms(sample_rate);
                self.audio_ms -= ms;
                dropped_now += ms;
            }
        }
        if dropped_now == 0.0 {
            return None;
        }
        let first = self.dropped_ms == 0.0;
        self.dropped_ms += dropped_now;
        first.then_some(self.dropped_ms as u64)
    }

    /// Puts `inputs` before everything kept (input to send again, older than
    /// what waited); they do not count against the bound.
    pub(super) fn prepend(&mut self, inputs: Vec<ClientInput>) {
        for input in inputs.into_iter().rev() {
            if let ClientInput::Audio { pcm, sample_rate } = &input {
                self.audio_ms += pcm.duration_ms(*sample_rate);
            }
            self.queue.push_front(input);
        }
    }

    /// Everything kept, oldest first; the buffer is left empty.
    pub(super) fn take_all(&mut self) -> Vec<ClientInput> {
        self.audio_ms = 0.0;
        self.queue.drain(..).collect()
    }

    /// Audio dropped since the last call, in milliseconds; the count restarts.
    pub(super) fn take_dropped_ms(&mut self) -> f64 {
        std::mem::take(&mut self.dropped_ms)
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use understudy_adapters::Pcm;

    /// `ms` of silence at 16 kHz.
    pub(in crate::realtime::agent) fn audio(ms: usize) -> ClientInput {
        ClientInput::Audio {
            pcm: Pcm(vec![0; ms * 32]),
            sample_rate: 16_000,
        }
    }

    #[test]
    fn the_oldest_audio_goes_first_and_other_input_stays() {
        let mut buffer = InputBuffer::new(250);
        assert_eq!(buffer.push(audio(100)), None);
        buffer.push(ClientInput::CommitAudio);
        assert_eq!(buffer.push(audio(100)), None);
        // 300 ms > 250: the first chunk goes, and that is reported once.
        assert_eq!(buffer.push(audio(100)), Some(100));
        assert_eq!(buffer.push(audio(100)), None, "reported once per outage");
        assert_eq!(buffer.take_dropped_ms(), 200.0);
        let kept = buffer.take_all();
        assert_eq!(kept.len(), 3);
        assert!(matches!(kept[0], ClientInput::CommitAudio));
        // A new count starts: the next drop is reported again.
        buffer.push(audio(200));
        assert_eq!(buffer.push(audio(100)), Some(200));
    }
}
