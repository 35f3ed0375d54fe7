//! The socket as hyper sees it: reads are reported to the connection's [`Activity`], and
//! the bodiless answers hyper writes on its own for a request it cannot parse (400, 414,
//! 431) are replaced by the same status with the JSON error body.

use super::activity::Activity;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::rt::TokioIo;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use tokio::net::TcpStream;

pub struct Io {
    inner: TokioIo<TcpStream>,
    activity: Arc<Activity>,
    /// A replacement answer being written, and how much of it is out.
    replacement: Option<(Vec<u8>, usize)>,
}

impl Io {
    pub fn new(stream: TcpStream, activity: Arc<Activity>) -> Self {
        Self {
            inner: TokioIo::new(stream),
            activity,
            replacement: None,
        }
    }

    /// Writes the pending replacement; `Ready(Ok)` once it is all out.
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some((bytes, sent)) = &mut self.replacement {
            if *sent == bytes.len() {
                self.replacement = None;
                break;
            }
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &bytes[*sent..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *sent += n;
        }
        Poll::Ready(Ok(()))
    }

    /// Starts a replacement when `head` is one of hyper's automatic error answers.
    fn intercept(&mut self, head: &[u8]) -> bool {
        if self.replacement.is_some() {
            return false;
        }
        match automatic_error(head) {
            Some(bytes) => {
                self.replacement = Some((bytes, 0));
                true
            }
            None => false,
        }
    }
}

impl Read for Io {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        // hyper reads only when it wants bytes, so any read that completes after a response
        // may carry the next request: the activity decides.
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if polled.is_ready() {
            self.activity.read();
        }
        polled
    }
}

impl Write for Io {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.replacement.is_some() || self.intercept(buf) {
            ready!(self.drain(cx))?;
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let total: usize = bufs.iter().map(|b| b.len()).sum();
        let whole_head = bufs.first().is_some_and(|b| b.len() == total);
        if self.replacement.is_some() || (whole_head && self.intercept(&bufs[0])) {
            ready!(self.drain(cx))?;
            return Poll::Ready(Ok(total));
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.drain(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.drain(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The JSON answer for one of hyper's automatic error heads (`HTTP/1.1 4xx`, no body).
/// Every answer Roster itself makes with these statuses has a body, so an empty one can
/// only be hyper's.
pub fn automatic_error(head: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(head).ok()?;
    let (status, body) = match text.get(..13)? {
        "HTTP/1.1 400 " => (
            "400 Bad Request",
            r#"{"message":["malformed HTTP request"],"error_code":400}"#,
        ),
        "HTTP/1.1 414 " => (
            "414 URI Too Long",
            r#"{"message":"URI too long","error_code":414}"#,
        ),
        "HTTP/1.1 431 " => (
            "431 Request Header Fields Too Large",
            r#"{"message":"request headers too large","error_code":431}"#,
        ),
        _ => return None,
    };
    let bodiless = text.ends_with("\r\n\r\n")
        && text
            .split("\r\n")
            .any(|line| line.eq_ignore_ascii_case("content-length: 0"));
    bodiless.then(|| {
        format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    })
}

#[cfg(test)]
mod tests {
    use super::automatic_error;

    #[test]
    fn only_bodiless_parse_errors_are_replaced() {
        let hyper_431 = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: Sun, 29 Nov 2026 22:00:00 GMT\r\n\r\n";
        let replaced = String::from_utf8(automatic_error(hyper_431).unwrap()).unwrap();
        assert!(replaced.starts_with("HTTP/1.1 431 "), "{replaced}");
        assert!(replaced.ends_with(r#"{"message":"request headers too large","error_code":431}"#));
        let ours = b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 52\r\n\r\n";
        assert!(automatic_error(ours).is_none());
        assert!(automatic_error(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n").is_none());
        assert!(automatic_error(b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\n").is_none());
    }
}
