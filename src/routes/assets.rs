//! Static files in brotli or gzip, for clients that accept them: each text file under the static
//! directory is compressed the first time it is asked for in a coding, and kept until the file
//! changes on disk. Everything else (other files, other requests) is actix-files' to serve.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use actix_web::dev::HttpServiceFactory;
use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, guard, web};
use sha2::{Digest, Sha256};

use super::cache::none_match_hits;
use super::encoding::{Coding, Compressed, STATIC_QUALITY};
use crate::error::AppError;

/// One file as last read: what identifies that version on disk, its bytes, tag and compressed
/// forms.
struct Version {
    stamp: (u64, Option<SystemTime>),
    identity: Bytes,
    etag: String,
    compressed: Arc<Compressed>,
}

struct Asset {
    file: PathBuf,
    content_type: String,
    kept: Mutex<Option<Arc<Version>>>,
}

/// The compressible files under one directory, by their path below it. Only files found when the
/// server starts are in it: no value a client sends makes an entry.
#[derive(Clone, Default)]
pub struct Assets {
    files: Arc<HashMap<String, Arc<Asset>>>,
}

/// Whether a file of this type gains from compression: text, scripts, styles, SVG, JSON.
fn compressible(path: &Path) -> Option<String> {
    let mime = mime_guess::from_path(path).first()?;
    let text = mime.type_() == mime::TEXT
        || matches!(mime.subtype().as_str(), "javascript" | "json" | "svg")
        || mime
            .suffix()
            .is_some_and(|suffix| suffix == mime::JSON || suffix == mime::XML);
    text.then(|| {
        if mime.type_() == mime::TEXT || mime.subtype() == "javascript" {
            format!("{mime}; charset=utf-8")
        } else {
            mime.to_string()
        }
    })
}

fn walk(dir: &Path, below: &str, files: &mut HashMap<String, Arc<Asset>>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        let relative = if below.is_empty() {
            name
        } else {
            format!("{below}/{name}")
        };
        // Links are not followed: actix-files refuses what resolves outside the directory too.
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            walk(&path, &relative, files);
        } else if kind.is_file()
            && let Some(content_type) = compressible(&path)
        {
            files.insert(
                relative,
                Arc::new(Asset {
                    file: path,
                    content_type,
                    kept: Mutex::new(None),
                }),
            );
        }
    }
}

impl Assets {
    /// The compressible files under `dir`.
    pub fn under(dir: &Path) -> Assets {
        let mut files = HashMap::new();
        walk(dir, "", &mut files);
        Assets {
            files: Arc::new(files),
        }
    }

    fn find(&self, path: &str) -> Option<Arc<Asset>> {
        let path = percent_encoding::percent_decode_str(path.trim_start_matches('/'))
            .decode_utf8()
            .ok()?;
        self.files.get(path.as_ref()).cloned()
    }

    /// The files' resource inside a scope mounted at `prefix`: it takes the requests for one of
    /// them that accept brotli or gzip, and lets every other request through to what follows.
    pub fn service(&self, prefix: &str) -> impl HttpServiceFactory + use<> {
        let (assets, prefix) = (self.clone(), prefix.to_owned());
        let wanted = self.clone();
        let wanted_prefix = prefix.clone();
        web::resource("/{path:.*}")
            .guard(guard::fn_guard(move |ctx| {
                let encoded = ctx
                    .head()
                    .headers
                    .get(header::ACCEPT_ENCODING)
                    .and_then(|value| value.to_str().ok())
                    .is_some_and(|value| value.contains("br") || value.contains("gzip"));
                encoded
                    && ctx
                        .head()
                        .uri
                        .path()
                        .strip_prefix(&wanted_prefix)
                        .and_then(|path| wanted.find(path))
                        .is_some()
            }))
            .route(
                web::route()
                    .guard(guard::Any(guard::Get()).or(guard::Head()))
                    .to(move |req: HttpRequest| {
                        let (assets, prefix) = (assets.clone(), prefix.clone());
                        async move { assets.serve(&req, &prefix).await }
                    }),
            )
    }

    async fn serve(&self, req: &HttpRequest, prefix: &str) -> Result<HttpResponse, AppError> {
        let path = req.path().strip_prefix(prefix).unwrap_or_default();
        let asset = self
            .find(path)
            .ok_or_else(|| AppError::NotFound("there is no such file".into()))?;
        let coding = Coding::accepted(req);
        let kept = web::block(move || asset.version(coding).map(|version| (asset, version)))
            .await
            .map_err(AppError::internal)?;
        let (asset, version) =
            kept.map_err(|_| AppError::NotFound("there is no such file".into()))?;
        let etag = coding.tag(&version.etag);
        let none_match = req
            .headers()
            .get(header::IF_NONE_MATCH)
            .and_then(|value| value.to_str().ok());
        if none_match.is_some_and(|tags| none_match_hits(tags, &etag)) {
            return Ok(HttpResponse::NotModified()
                .insert_header((header::ETAG, etag))
                .insert_header((header::VARY, "Accept-Encoding"))
                .finish());
        }
        let body = version
            .compressed
            .get(coding, &version.identity, STATIC_QUALITY);
        let mut response = HttpResponse::Ok();
        response
            .content_type(asset.content_type.as_str())
            .insert_header((header::ETAG, etag))
            .insert_header((header::VARY, "Accept-Encoding"));
        if let Some(token) = coding.token() {
            response.insert_header((header::CONTENT_ENCODING, token));
        }
        Ok(response.body(body))
    }
}

impl Asset {
    /// The file as it is on disk now, with its form in `coding` made (on the blocking pool).
    fn version(&self, coding: Coding) -> std::io::Result<Arc<Version>> {
        let metadata = std::fs::metadata(&self.file)?;
        let stamp = (metadata.len(), metadata.modified().ok());
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        let version = match kept.as_ref() {
            Some(version) if version.stamp == stamp => version.clone(),
            _ => {
                let identity = Bytes::from(std::fs::read(&self.file)?);
                let digest = Sha256::digest(&identity);
                let version = Arc::new(Version {
                    stamp,
                    etag: format!("\"{}\"", hex::encode(&digest[..8])),
                    identity,
                    compressed: Arc::default(),
                });
                *kept = Some(version.clone());
                version
            }
        };
        drop(kept);
        version
            .compressed
            .get(coding, &version.identity, STATIC_QUALITY);
        Ok(version)
    }
}
