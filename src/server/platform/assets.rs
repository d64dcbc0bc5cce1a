//! Static files as built: the names pages link them by (content-hashed by cargo-leptos
//! `hash-files`, or by a `?v=` digest) and how long browsers may keep them.

use std::{path::Path, sync::OnceLock};

use axum::{
    extract::Request,
    http::{header, HeaderValue, Method},
    middleware::Next,
    response::Response,
};
use leptos::config::LeptosOptions;
use sha2::{Digest, Sha256};

/// Where pages link the site's own files from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SiteFiles {
    /// The stylesheet, e.g. `/pkg/quotaboard.1a2b….css`.
    pub stylesheet: String,
    /// The charts bundle, `/vendor/echarts.min.js?v=<digest of its content>`.
    pub charts: String,
    /// The app's JS glue, e.g. `/pkg/quotaboard.4c5d….js`, preloaded as a module.
    pub app_js: String,
    /// The app's WASM, e.g. `/pkg/quotaboard.7e8f….wasm`, preloaded.
    pub app_wasm: String,
    /// The page's script (`src/app/page.js`): loads both, hydrates the page's islands and
    /// keeps navigation inside the page.
    pub hydration_script: String,
    /// Run by `cargo leptos watch` (`LEPTOS_WATCH` set): pages reload on rebuilds.
    pub watched: bool,
}

/// Cache lifetime of a file whose URL changes with its content.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Any other static file: kept, but checked with the server (a 304) before each use.
const REVALIDATE: &str = "no-cache";

/// The names of this build's files, read once: with `hash-files` from the `hash.txt`
/// cargo-leptos writes beside the binary, else the plain names.
pub fn site_files(options: &LeptosOptions) -> &'static SiteFiles {
    static FILES: OnceLock<SiteFiles> = OnceLock::new();
    FILES.get_or_init(|| {
        let hashes = options.hash_files.then(|| {
            let path = std::env::current_exe()
                .ok()
                .and_then(|exe| Some(exe.parent()?.join(&*options.hash_file)))?;
            std::fs::read_to_string(&path)
                .inspect_err(|error| {
                    tracing::error!(%error, path = %path.display(), "hash-files is on but the hash file cannot be read");
                })
                .ok()
        });
        let hashes = hashes.flatten().unwrap_or_default();
        let url = |kind: &str| match hash_of(&hashes, kind) {
            Some(hash) => format!("/{}/{}.{hash}.{kind}", options.site_pkg_dir, options.output_name),
            None => format!("/{}/{}.{kind}", options.site_pkg_dir, options.output_name),
        };
        let (app_js, app_wasm) = (url("js"), url("wasm"));
        let charts = Path::new(&*options.site_root).join("vendor/echarts.min.js");
        SiteFiles {
            stylesheet: url("css"),
            hydration_script: hydration_script(&app_js, &app_wasm),
            app_js,
            app_wasm,
            watched: std::env::var_os("LEPTOS_WATCH").is_some(),
            charts: match std::fs::read(&charts) {
                Ok(bytes) => format!("/vendor/echarts.min.js?v={}", &hex::encode(Sha256::digest(bytes))[..16]),
                Err(error) => {
                    tracing::error!(%error, path = %charts.display(), "cannot read the charts bundle");
                    "/vendor/echarts.min.js".into()
                }
            },
        }
    })
}

/// The page's script, given this build's JS glue and WASM. (Leptos's `<HydrationScripts/>`
/// would read `hash.txt` on every page it renders, and its islands script does no more than
/// hydrate.)
fn hydration_script(app_js: &str, app_wasm: &str) -> String {
    const PAGE_SCRIPT: &str = include_str!("../../app/page.js");
    format!("{}({app_js:?}, {app_wasm:?});", PAGE_SCRIPT.trim_end())
}

/// The hash of `kind` (`js`, `wasm`, `css`) in a cargo-leptos hash file (`kind: hash` lines).
fn hash_of(text: &str, kind: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let (name, hash) = line.split_once(':')?;
        (name.trim() == kind && !hash.trim().is_empty()).then(|| hash.trim().to_string())
    })
}

/// Sets `Cache-Control` on static files: a year, immutable, for content-named ones (the
/// hashed WASM, JS and CSS, and `?v=` links); `no-cache` (revalidate) for the rest.
/// Pages and the API are left as they answer.
pub async fn cache_control(request: Request, next: Next) -> Response {
    let lifetime = match *request.method() {
        Method::GET | Method::HEAD => lifetime(request.uri().path(), request.uri().query()),
        _ => None,
    };
    let mut response = next.run(request).await;
    if let Some(value) = lifetime {
        let status = response.status();
        if (status.is_success() || status.as_u16() == 304)
            && !response.headers().contains_key(header::CACHE_CONTROL)
        {
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
        }
    }
    response
}

/// The `Cache-Control` of a static file's URL; `None` for anything else.
fn lifetime(path: &str, query: Option<&str>) -> Option<&'static str> {
    let file = path.rsplit('/').next().unwrap_or_default();
    if path.starts_with("/pkg/") {
        Some(if content_named(file) {
            IMMUTABLE
        } else {
            REVALIDATE
        })
    } else if path.starts_with("/vendor/") {
        let versioned = query.is_some_and(|q| q.split('&').any(|pair| pair.starts_with("v=")));
        Some(if versioned { IMMUTABLE } else { REVALIDATE })
    } else if path == "/favicon.svg" {
        Some(REVALIDATE)
    } else {
        None
    }
}

/// `name.<hash>.ext`, as cargo-leptos names hashed files: a middle part of at least 8
/// letters and digits.
fn content_named(file: &str) -> bool {
    let parts: Vec<&str> = file.split('.').collect();
    parts.len() == 3
        && parts[1].len() >= 8
        && parts[1]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_content_named_files_are_kept_for_a_year() {
        let cases = [
            ("/pkg/quotaboard.3k9df0a1b2c3.wasm", None, Some(IMMUTABLE)),
            ("/pkg/quotaboard.3k9df0a1b2c3.js", None, Some(IMMUTABLE)),
            ("/pkg/quotaboard.wasm", None, Some(REVALIDATE)),
            ("/pkg/quotaboard.css", None, Some(REVALIDATE)),
            ("/pkg/snippets/x/inline0.js", None, Some(REVALIDATE)),
            (
                "/vendor/echarts.min.js",
                Some("v=0123456789abcdef"),
                Some(IMMUTABLE),
            ),
            ("/vendor/echarts.min.js", None, Some(REVALIDATE)),
            ("/vendor/echarts.min.js", Some("x=1"), Some(REVALIDATE)),
            ("/favicon.svg", None, Some(REVALIDATE)),
            ("/usage", None, None),
            ("/api/v1/events", None, None),
        ];
        for (path, query, expected) in cases {
            assert_eq!(lifetime(path, query), expected, "{path}?{query:?}");
        }
    }

    #[test]
    fn the_hash_file_names_each_kind() {
        let text = "js: abc123\nwasm: def456\ncss: 0a1b2c\n";
        assert_eq!(hash_of(text, "css").as_deref(), Some("0a1b2c"));
        assert_eq!(hash_of(text, "wasm").as_deref(), Some("def456"));
        assert_eq!(hash_of("css:\n", "css"), None);
        assert_eq!(hash_of("", "js"), None);
    }
}
