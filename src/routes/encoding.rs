//! Content codings (RFC 9110 §8.4): which one a request accepts best (brotli, then gzip, else
//! none), a body's compressed forms made at most once each, and the ETag of each form.

use std::io::Write as _;
use std::sync::OnceLock;

use actix_web::HttpRequest;
use actix_web::http::header::{self, AcceptEncoding, Encoding, Header as _};
use actix_web::web::Bytes;

/// How a body is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Coding {
    Identity,
    Brotli,
    Gzip,
}

/// Brotli's quality for what is compressed once per change of a list: fast (a page of 100 todos
/// in about a millisecond) and within a few percent of the best size.
pub const LIST_QUALITY: u32 = 5;
/// Brotli's quality for static files, compressed once per file: the smallest.
pub const STATIC_QUALITY: u32 = 11;

impl Coding {
    /// The best coding `req`'s `Accept-Encoding` allows: brotli, then gzip (by the client's
    /// q-values first), else identity. A request without the header gets identity.
    pub fn accepted(req: &HttpRequest) -> Coding {
        if !req.headers().contains_key(header::ACCEPT_ENCODING) {
            return Coding::Identity;
        }
        let Ok(accepted) = AcceptEncoding::parse(req) else {
            return Coding::Identity;
        };
        let supported = [Encoding::brotli(), Encoding::gzip(), Encoding::identity()];
        match accepted.negotiate(supported.iter()) {
            Some(chosen) if chosen == Encoding::brotli() => Coding::Brotli,
            Some(chosen) if chosen == Encoding::gzip() => Coding::Gzip,
            _ => Coding::Identity,
        }
    }

    /// Its `Content-Encoding` token; `None` for identity.
    pub fn token(self) -> Option<&'static str> {
        match self {
            Coding::Identity => None,
            Coding::Brotli => Some("br"),
            Coding::Gzip => Some("gzip"),
        }
    }

    /// The ETag of this form of a body tagged `etag` (`"5-ab"` → `"5-ab-br"`): each form has its
    /// own, as RFC 9110 §8.8.3 asks of representations that differ in their bytes.
    pub fn tag(self, etag: &str) -> String {
        let suffix = match self {
            Coding::Identity => return etag.to_owned(),
            Coding::Brotli => "-br",
            Coding::Gzip => "-gz",
        };
        match etag.strip_suffix('"') {
            Some(open) => format!("{open}{suffix}\""),
            None => format!("{etag}{suffix}"),
        }
    }

    /// `bytes` compressed with this coding (brotli at `quality`).
    pub fn compress(self, bytes: &[u8], quality: u32) -> Bytes {
        match self {
            Coding::Identity => Bytes::copy_from_slice(bytes),
            Coding::Brotli => {
                let mut out = Vec::with_capacity(bytes.len() / 4);
                {
                    let mut writer = brotli::CompressorWriter::new(&mut out, 4096, quality, 22);
                    // Writing to a Vec cannot fail.
                    let _ = writer.write_all(bytes);
                }
                Bytes::from(out)
            }
            Coding::Gzip => {
                let mut writer = flate2::write::GzEncoder::new(
                    Vec::with_capacity(bytes.len() / 4),
                    flate2::Compression::new(6),
                );
                let _ = writer.write_all(bytes);
                Bytes::from(writer.finish().unwrap_or_default())
            }
        }
    }
}

/// A body's compressed forms, each made the first time it is asked for and kept.
#[derive(Debug, Default)]
pub struct Compressed {
    brotli: OnceLock<Bytes>,
    gzip: OnceLock<Bytes>,
}

impl Compressed {
    /// `identity` in `coding`: made now if it was not yet.
    pub fn get(&self, coding: Coding, identity: &Bytes, quality: u32) -> Bytes {
        let cell = match coding {
            Coding::Identity => return identity.clone(),
            Coding::Brotli => &self.brotli,
            Coding::Gzip => &self.gzip,
        };
        cell.get_or_init(|| coding.compress(identity, quality))
            .clone()
    }

    /// `coding`'s form if it was made already.
    pub fn made(&self, coding: Coding) -> Option<Bytes> {
        match coding {
            Coding::Identity => None,
            Coding::Brotli => self.brotli.get().cloned(),
            Coding::Gzip => self.gzip.get().cloned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn the_best_coding_the_client_accepts_is_chosen() {
        let cases = [
            (None, Coding::Identity),
            (Some("gzip, deflate, br, zstd"), Coding::Brotli),
            (Some("gzip"), Coding::Gzip),
            (Some("br;q=0.5, gzip"), Coding::Gzip),
            (Some("br;q=0, gzip;q=0"), Coding::Identity),
            (Some("identity"), Coding::Identity),
            // "Any coding": identity is one of them, and actix picks it.
            (Some("*"), Coding::Identity),
            (Some("nonsense;;;q=x"), Coding::Identity),
        ];
        for (accept, expected) in cases {
            let mut req = TestRequest::default();
            if let Some(accept) = accept {
                req = req.insert_header((header::ACCEPT_ENCODING, accept));
            }
            assert_eq!(
                Coding::accepted(&req.to_http_request()),
                expected,
                "{accept:?}"
            );
        }
    }

    #[test]
    fn each_form_has_its_tag_and_decompresses_to_the_body() {
        assert_eq!(Coding::Brotli.tag("\"5-ab\""), "\"5-ab-br\"");
        assert_eq!(Coding::Gzip.tag("\"5-ab\""), "\"5-ab-gz\"");
        assert_eq!(Coding::Identity.tag("\"5-ab\""), "\"5-ab\"");
        let body = Bytes::from("<li>Buy milk</li>".repeat(200));
        let kept = Compressed::default();
        let brotli = kept.get(Coding::Brotli, &body, LIST_QUALITY);
        assert!(brotli.len() * 10 < body.len(), "{}", brotli.len());
        let mut unpacked = Vec::new();
        brotli::Decompressor::new(&brotli[..], 4096)
            .read_to_end(&mut unpacked)
            .expect("brotli");
        assert_eq!(unpacked, body);
        let gzip = kept.get(Coding::Gzip, &body, LIST_QUALITY);
        let mut unpacked = Vec::new();
        flate2::read::GzDecoder::new(&gzip[..])
            .read_to_end(&mut unpacked)
            .expect("gzip");
        assert_eq!(unpacked, body);
        assert_eq!(kept.made(Coding::Brotli), Some(brotli));
    }
}
