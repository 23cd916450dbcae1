//! The bytes on the local socket: frames, and what is in them.
//!
//! A frame is a little-endian `u32` length, then that many bytes: a kind byte, then the
//! kind's fields. Numbers are little-endian; byte strings are a `u32` length and the bytes.
//! File descriptors travel beside a frame's bytes (`SCM_RIGHTS`), attached to its first byte.
//! Every read is bounded (a frame's length, a descriptor count) and every field is checked:
//! a malformed frame is an error, never a panic.

use rustix::net::{
    recvmsg, sendmsg, RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SendAncillaryBuffer,
    SendAncillaryMessage, SendFlags,
};
use std::io::{IoSlice, IoSliceMut, Read, Write};
use std::mem::MaybeUninit;
use std::os::fd::{BorrowedFd, OwnedFd};
use std::os::unix::net::UnixStream;

/// The version of this protocol; a client and a server of different versions do not talk.
pub const PROTOCOL: u32 = 1;

/// The largest request: a command line and environment, which Linux caps at a quarter of the
/// stack limit (2 MiB by default) anyway.
pub const REQUEST_BYTES_MAX: usize = 4 << 20;

/// The largest frame of any other kind (a path, an error message).
pub const FRAME_BYTES_MAX: usize = 1 << 20;

/// The most descriptors a frame carries: standard input, output and error.
pub const FDS_MAX: usize = 3;

// Client to server.
pub const REQUEST: u8 = 1;
pub const REPLY: u8 = 2;
pub const INTERRUPT: u8 = 3;
// Server to client.
pub const ACCEPTED: u8 = 10;
pub const OPEN: u8 = 11;
pub const CANONICALIZE: u8 = 12;
pub const REMOVE: u8 = 13;
pub const EXIT: u8 = 14;
pub const REFUSED: u8 = 15;

/// A frame being built.
#[derive(Debug)]
pub struct Frame(Vec<u8>);

impl Frame {
    pub fn new(kind: u8) -> Frame {
        let mut bytes = Vec::with_capacity(64);
        bytes.extend_from_slice(&[0, 0, 0, 0, kind]);
        Frame(bytes)
    }

    pub fn u8(mut self, value: u8) -> Frame {
        self.0.push(value);
        self
    }

    pub fn u32(mut self, value: u32) -> Frame {
        self.0.extend_from_slice(&value.to_le_bytes());
        self
    }

    pub fn i32(mut self, value: i32) -> Frame {
        self.0.extend_from_slice(&value.to_le_bytes());
        self
    }

    pub fn bytes(mut self, value: &[u8]) -> Frame {
        let len = u32::try_from(value.len()).unwrap_or(u32::MAX);
        self.0.extend_from_slice(&len.to_le_bytes());
        self.0.extend_from_slice(&value[..len as usize]);
        self
    }

    /// The frame's bytes, its length filled in.
    fn finish(mut self) -> Vec<u8> {
        let len = u32::try_from(self.0.len() - 4).unwrap_or(u32::MAX);
        self.0[..4].copy_from_slice(&len.to_le_bytes());
        self.0
    }

    /// Sends the frame, with `fds` beside it.
    pub fn send(self, stream: &UnixStream, fds: &[BorrowedFd<'_>]) -> std::io::Result<()> {
        let bytes = self.finish();
        if fds.is_empty() {
            return (&*stream).write_all(&bytes);
        }
        let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(FDS_MAX))];
        let mut control = SendAncillaryBuffer::new(&mut space);
        if !control.push(SendAncillaryMessage::ScmRights(fds)) {
            return Err(std::io::Error::other("too many descriptors for one frame"));
        }
        let sent = sendmsg(
            stream,
            &[IoSlice::new(&bytes)],
            &mut control,
            SendFlags::NOSIGNAL,
        )?;
        // The descriptors went with the first bytes; the rest, if the socket took only part.
        (&*stream).write_all(&bytes[sent..])
    }
}

/// A frame received: its kind, its fields, and the descriptors that came with it.
#[derive(Debug)]
pub struct Received {
    pub kind: u8,
    pub fields: Fields,
    pub fds: Vec<OwnedFd>,
}

/// Reads one frame of at most `bytes_max` bytes, with at most `fds_max` descriptors (more are
/// closed). `Ok(None)`: the peer closed the connection before a frame began.
pub fn receive(
    stream: &UnixStream,
    bytes_max: usize,
    fds_max: usize,
) -> std::io::Result<Option<Received>> {
    let mut head = [0u8; 5];
    let mut filled = 0;
    let mut fds = Vec::new();
    // The descriptors come with the frame's first bytes.
    while filled < head.len() {
        let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(FDS_MAX))];
        let mut control = RecvAncillaryBuffer::new(&mut space);
        let mut slices = [IoSliceMut::new(&mut head[filled..])];
        let got = recvmsg(stream, &mut slices, &mut control, RecvFlags::CMSG_CLOEXEC)?;
        for message in control.drain() {
            if let RecvAncillaryMessage::ScmRights(received) = message {
                for fd in received {
                    if fds.len() < fds_max {
                        fds.push(fd);
                    }
                }
            }
        }
        if got.bytes == 0 {
            if filled == 0 {
                return Ok(None);
            }
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        filled += got.bytes;
    }
    let len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
    if len == 0 || len > bytes_max {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("a frame of {len} bytes (at most {bytes_max})"),
        ));
    }
    let mut fields = Vec::new();
    stream.take(len as u64 - 1).read_to_end(&mut fields)?;
    if fields.len() != len - 1 {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    Ok(Some(Received {
        kind: head[4],
        fields: Fields {
            bytes: fields,
            at: 0,
        },
        fds,
    }))
}

/// The fields of a frame, read in order; reading past the end is an error.
#[derive(Debug)]
pub struct Fields {
    bytes: Vec<u8>,
    at: usize,
}

fn malformed() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, "a malformed frame")
}

impl Fields {
    fn take(&mut self, n: usize) -> std::io::Result<&[u8]> {
        let end = self.at.checked_add(n).ok_or_else(malformed)?;
        let slice = self.bytes.get(self.at..end).ok_or_else(malformed)?;
        self.at = end;
        Ok(slice)
    }

    pub fn u8(&mut self) -> std::io::Result<u8> {
        Ok(self.take(1)?[0])
    }

    pub fn u32(&mut self) -> std::io::Result<u32> {
        let bytes = self.take(4)?;
        Ok(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    pub fn i32(&mut self) -> std::io::Result<i32> {
        let bytes = self.take(4)?;
        Ok(i32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    pub fn bytes(&mut self) -> std::io::Result<&[u8]> {
        let len = self.u32()? as usize;
        self.take(len)
    }

    /// Requires that every field was read.
    pub fn end(&self) -> std::io::Result<()> {
        if self.at == self.bytes.len() {
            Ok(())
        } else {
            Err(malformed())
        }
    }
}

/// An `std::io::Error` as a frame carries it: the operating system's error number when there
/// is one (so that the other side makes the same error, with the same words), else a kind and
/// the message.
pub fn put_error(frame: Frame, error: &std::io::Error) -> Frame {
    match error.raw_os_error() {
        Some(errno) => frame.i32(errno).u8(0).bytes(b""),
        None => frame
            .i32(-1)
            .u8(kind_code(error.kind()))
            .bytes(error.to_string().as_bytes()),
    }
}

/// The error [`put_error`] put.
pub fn get_error(fields: &mut Fields) -> std::io::Result<std::io::Error> {
    let errno = fields.i32()?;
    let kind = fields.u8()?;
    let message = String::from_utf8_lossy(fields.bytes()?).into_owned();
    Ok(if errno >= 0 {
        std::io::Error::from_raw_os_error(errno)
    } else {
        std::io::Error::new(kind_of(kind), message)
    })
}

const KINDS: [std::io::ErrorKind; 8] = [
    std::io::ErrorKind::Other,
    std::io::ErrorKind::NotFound,
    std::io::ErrorKind::PermissionDenied,
    std::io::ErrorKind::AlreadyExists,
    std::io::ErrorKind::InvalidInput,
    std::io::ErrorKind::InvalidData,
    std::io::ErrorKind::UnexpectedEof,
    std::io::ErrorKind::TimedOut,
];

fn kind_code(kind: std::io::ErrorKind) -> u8 {
    KINDS.iter().position(|k| *k == kind).unwrap_or(0) as u8
}

fn kind_of(code: u8) -> std::io::ErrorKind {
    KINDS
        .get(code as usize)
        .copied()
        .unwrap_or(std::io::ErrorKind::Other)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn frames_carry_fields_and_descriptors() {
        let (a, b) = UnixStream::pair().unwrap();
        let file = tempfile::tempfile().unwrap();
        Frame::new(REQUEST)
            .u32(7)
            .bytes(b"show")
            .i32(-3)
            .send(&a, &[file.as_fd()])
            .unwrap();
        let mut got = receive(&b, 1024, 3).unwrap().unwrap();
        assert_eq!(got.kind, REQUEST);
        assert_eq!(got.fields.u32().unwrap(), 7);
        assert_eq!(got.fields.bytes().unwrap(), b"show");
        assert_eq!(got.fields.i32().unwrap(), -3);
        got.fields.end().unwrap();
        assert_eq!(got.fds.len(), 1);
        assert!(got.fields.u8().is_err(), "nothing past the end");
        drop(a);
        assert!(receive(&b, 1024, 3).unwrap().is_none(), "closed");
    }

    #[test]
    fn frames_are_bounded_and_checked() {
        let (a, b) = UnixStream::pair().unwrap();
        Frame::new(REQUEST).bytes(&[0; 100]).send(&a, &[]).unwrap();
        assert!(receive(&b, 50, 0).is_err(), "too long");
        let (a, b) = UnixStream::pair().unwrap();
        (&a).write_all(&[0, 0, 0, 0, REPLY]).unwrap();
        assert!(receive(&b, 50, 0).is_err(), "empty");
        let (a, b) = UnixStream::pair().unwrap();
        (&a).write_all(&[9, 0, 0, 0, REPLY, 1]).unwrap();
        drop(a);
        assert!(receive(&b, 50, 0).is_err(), "cut short");
        // A length field that points past the end.
        let (a, b) = UnixStream::pair().unwrap();
        Frame::new(REPLY).u32(1000).send(&a, &[]).unwrap();
        let mut got = receive(&b, 50, 0).unwrap().unwrap();
        assert!(got.fields.bytes().is_err());
    }

    #[test]
    fn errors_keep_their_words() {
        let not_found = std::fs::File::open("/nonexistent/x").unwrap_err();
        let (a, b) = UnixStream::pair().unwrap();
        put_error(Frame::new(REPLY), &not_found)
            .send(&a, &[])
            .unwrap();
        put_error(
            Frame::new(REPLY),
            &std::io::Error::new(std::io::ErrorKind::InvalidInput, "odd path"),
        )
        .send(&a, &[])
        .unwrap();
        let mut got = receive(&b, 1024, 0).unwrap().unwrap();
        let error = get_error(&mut got.fields).unwrap();
        assert_eq!(error.to_string(), not_found.to_string());
        assert_eq!(error.kind(), not_found.kind());
        let mut got = receive(&b, 1024, 0).unwrap().unwrap();
        let error = get_error(&mut got.fields).unwrap();
        assert_eq!(error.to_string(), "odd path");
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    }
}
