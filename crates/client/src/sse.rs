//! The server-sent-events reader for the audit tail and the approvals feed, on the
//! `eventsource-stream` crate: it decodes UTF-8 across chunk boundaries (a character split
//! between two network reads stays whole) and follows the spec's line and field rules.

use bytes::Bytes;
use eventsource_stream::{EventStreamError, Eventsource};
use futures::StreamExt;
use futures::stream::BoxStream;
use reqwest::Response;

use crate::ClientError;

/// One event: its `event:` name, `id:` and the `data:` lines joined by newlines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SseEvent {
    pub event: Option<String>,
    pub id: Option<String>,
    pub data: String,
}

type Inner = BoxStream<'static, Result<eventsource_stream::Event, EventStreamError<String>>>;

pub struct EventStream {
    inner: Inner,
}

impl EventStream {
    pub(crate) fn new(resp: Response) -> Self {
        Self::from_bytes(
            resp.bytes_stream()
                .map(|r| r.map_err(|e| e.without_url().to_string())),
        )
    }

    /// Events from any byte stream (a response body; in tests, chunks chosen by hand).
    pub fn from_bytes(
        bytes: impl futures::Stream<Item = Result<Bytes, String>> + Send + 'static,
    ) -> Self {
        Self {
            inner: bytes.eventsource().boxed(),
        }
    }

    /// The next event with data; comments (keep-alives) are skipped. `None` when the
    /// server closes the stream.
    pub async fn next(&mut self) -> Option<crate::Result<SseEvent>> {
        loop {
            match self.inner.next().await? {
                Ok(ev) if ev.data.is_empty() => continue,
                Ok(ev) => {
                    return Some(Ok(SseEvent {
                        event: Some(ev.event).filter(|e| !e.is_empty() && e != "message"),
                        id: Some(ev.id).filter(|i| !i.is_empty()),
                        data: ev.data,
                    }));
                }
                Err(e) => {
                    let reason = match e {
                        EventStreamError::Transport(t) => t,
                        EventStreamError::Utf8(u) => format!("the event stream is not UTF-8: {u}"),
                        EventStreamError::Parser(p) => {
                            format!("the event stream is malformed: {p}")
                        }
                    };
                    return Some(Err(ClientError::Unreachable {
                        url: String::new(),
                        reason,
                    }));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn chunks(parts: Vec<&'static [u8]>) -> EventStream {
        EventStream::from_bytes(futures::stream::iter(
            parts.into_iter().map(|p| Ok(Bytes::from_static(p))),
        ))
    }

    #[test]
    fn parses_events_and_skips_comments() {
        futures::executor::block_on(async {
            let mut s = chunks(vec![
                &b":keep-alive\n\n"[..],
                &b"event: audit\nid: 7\ndata: {\"a\":1}\n\n"[..],
                &b"data: a\r\ndata: b\r\n\r\n"[..],
            ]);
            let ev = s.next().await.unwrap().unwrap();
            assert_eq!(ev.event.as_deref(), Some("audit"));
            assert_eq!(ev.id.as_deref(), Some("7"));
            assert_eq!(ev.data, "{\"a\":1}");
            let multi = s.next().await.unwrap().unwrap();
            assert_eq!(multi.data, "a\nb");
            assert!(s.next().await.is_none());
        });
    }

    /// "é" is two bytes (C3 A9) and "🔑" four: each is cut between two chunks, as a
    /// network read may cut it. The old reader decoded every chunk on its own and turned
    /// them into U+FFFD replacement characters.
    #[test]
    fn a_character_split_across_chunks_stays_whole() {
        futures::executor::block_on(async {
            let mut s = chunks(vec![
                &b"event: audit\ndata: {\"who\":\"Ren\xc3"[..],
                &b"\xa9e\",\"what\":\"\xf0\x9f"[..],
                &b"\x94\x91\"}\n"[..],
                &b"\n"[..],
            ]);
            let ev = s.next().await.unwrap().unwrap();
            assert_eq!(ev.data, "{\"who\":\"Renée\",\"what\":\"🔑\"}");
            assert!(!ev.data.contains('\u{FFFD}'));
        });
    }
}
