//! A small server-sent-events reader for the audit tail and the approvals feed.

use bytes::Bytes;
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

pub struct EventStream {
    inner: BoxStream<'static, reqwest::Result<Bytes>>,
    buf: String,
}

impl EventStream {
    pub(crate) fn new(resp: Response) -> Self {
        Self {
            inner: resp.bytes_stream().boxed(),
            buf: String::new(),
        }
    }

    /// The next event with data; comments (keep-alives) are skipped. `None` when the
    /// server closes the stream.
    pub async fn next(&mut self) -> Option<crate::Result<SseEvent>> {
        loop {
            if let Some(ev) = self.take_event() {
                return Some(Ok(ev));
            }
            match self.inner.next().await? {
                Ok(chunk) => self
                    .buf
                    .push_str(&String::from_utf8_lossy(&chunk).replace("\r\n", "\n")),
                Err(e) => {
                    return Some(Err(ClientError::Unreachable {
                        url: String::new(),
                        reason: e.without_url().to_string(),
                    }));
                }
            }
        }
    }

    fn take_event(&mut self) -> Option<SseEvent> {
        while let Some(end) = self.buf.find("\n\n") {
            let block: String = self.buf.drain(..end + 2).collect();
            if let Some(ev) = parse_block(&block) {
                return Some(ev);
            }
        }
        None
    }
}

fn parse_block(block: &str) -> Option<SseEvent> {
    let mut ev = SseEvent {
        event: None,
        id: None,
        data: String::new(),
    };
    let mut has_data = false;
    for line in block.lines() {
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "event" => ev.event = Some(value.to_owned()),
            "id" => ev.id = Some(value.to_owned()),
            "data" => {
                if has_data {
                    ev.data.push('\n');
                }
                ev.data.push_str(value);
                has_data = true;
            }
            _ => {}
        }
    }
    has_data.then_some(ev)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_blocks_and_skips_comments() {
        assert_eq!(parse_block(":keep-alive\n\n"), None);
        let ev = parse_block("event: audit\nid: 7\ndata: {\"a\":1}\n\n").unwrap();
        assert_eq!(ev.event.as_deref(), Some("audit"));
        assert_eq!(ev.id.as_deref(), Some("7"));
        assert_eq!(ev.data, "{\"a\":1}");
        let multi = parse_block("data: a\ndata: b\n\n").unwrap();
        assert_eq!(multi.data, "a\nb");
    }
}
