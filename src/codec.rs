//! How the server functions' answers travel: JSON, read back in the browser from text.
//!
//! A page's resources carry the data the server rendered with as JSON text, which Leptos
//! reads with `serde_json::from_str`. Server functions answer with JSON too, but Leptos's
//! own `Json` reads the answer as bytes (`from_slice`), so the WASM held two readers for
//! every type a page loads. Reading answers as text shares one.

use leptos::server_fn::{codec::Post, Bytes, ContentType, Decodes, Encodes, Format, FormatType};
use serde::{de::DeserializeOwned, Serialize};

/// JSON, read back from text: `#[server(output = JsonText)]`.
pub type JsonText = Post<JsonTextEncoding>;

/// The encoding behind [`JsonText`].
pub struct JsonTextEncoding;

impl ContentType for JsonTextEncoding {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for JsonTextEncoding {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for JsonTextEncoding {
    type Error = serde_json::Error;

    fn encode(output: &T) -> Result<Bytes, Self::Error> {
        serde_json::to_vec(output).map(Bytes::from)
    }
}

impl<T: DeserializeOwned> Decodes<T> for JsonTextEncoding {
    type Error = serde_json::Error;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        let text = std::str::from_utf8(&bytes).map_err(serde::de::Error::custom)?;
        serde_json::from_str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::AppError;

    #[test]
    fn answers_round_trip() {
        let answer: Result<Vec<String>, AppError> = Ok(vec!["emails".into(), "seats €".into()]);
        let bytes = JsonTextEncoding::encode(&answer).expect("encodes");
        let back: Result<Vec<String>, AppError> = JsonTextEncoding::decode(bytes).expect("decodes");
        assert_eq!(back, answer);
    }

    /// A server function left on Leptos's default encoding would bring back a second JSON
    /// reader for its answer's type in the WASM: every one names `JsonText`.
    #[test]
    fn every_server_function_answers_as_json_text() {
        fn sources(dir: &std::path::Path, found: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).expect("reads src") {
                let path = entry.expect("lists src").path();
                if path.is_dir() {
                    sources(&path, found);
                } else if path.extension().is_some_and(|ext| ext == "rs") {
                    found.push(path);
                }
            }
        }
        let mut files = Vec::new();
        sources(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut files,
        );
        let mut functions = 0;
        let mut default_encoded = Vec::new();
        for file in files {
            let text = std::fs::read_to_string(&file).expect("reads a source file");
            for (number, line) in text.lines().enumerate() {
                let line = line.trim_start();
                if line.starts_with("#[server") {
                    functions += 1;
                    if !line.contains("output = crate::codec::JsonText") {
                        default_encoded.push(format!("{}:{}", file.display(), number + 1));
                    }
                }
            }
        }
        assert!(functions > 0, "no server function found under src");
        assert!(
            default_encoded.is_empty(),
            "without JsonText: {default_encoded:?}"
        );
    }

    #[test]
    fn bytes_that_are_not_utf8_are_an_error() {
        let read: Result<String, _> = JsonTextEncoding::decode(Bytes::from_static(b"\"\xff\""));
        assert!(read.is_err());
    }
}
