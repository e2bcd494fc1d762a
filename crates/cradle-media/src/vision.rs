//! Captions for images from an OpenAI-compatible vision model
//! (`POST /v1/chat/completions` with the picture as an `image_url` data
//! URL): vLLM, Ollama, OpenAI and the like. Optional and configured; OCR
//! does the reading where it is installed.

use crate::ImageFormat;
use crate::error::MediaError;
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;

/// The largest image sent, in bytes (as base64 it grows by a third).
pub const MAX_VISION_BYTES: u64 = 16 << 20;
/// One request, answer included.
const VISION_TIMEOUT: Duration = Duration::from_secs(120);
/// What is kept of an error answer's body in a message.
const ERROR_BODY_CHARS: usize = 300;
const PROMPT: &str = "This image belongs to a lighting manufacturer's product catalogue. \
First copy every piece of text visible in it exactly (article numbers, names, technical values with units). \
Then describe the product shown in one or two sentences. Answer in the language of the text in the image.";

/// Where the vision model is.
#[derive(Clone, PartialEq, Eq)]
pub struct VisionOptions {
    /// The server's base URL (`http://localhost:8000`), its `/v1`, or the
    /// full `/v1/chat/completions` URL.
    pub endpoint: String,
    pub model: String,
    /// Sent as `Authorization: Bearer ...` when set.
    pub api_key: Option<String>,
}

impl std::fmt::Debug for VisionOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VisionOptions")
            .field("endpoint", &self.endpoint)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl VisionOptions {
    /// The chat-completions URL the endpoint setting stands for.
    pub fn url(&self) -> String {
        let base = self.endpoint.trim_end_matches('/');
        if base.ends_with("/chat/completions") {
            base.to_owned()
        } else if base.ends_with("/v1") {
            format!("{base}/chat/completions")
        } else {
            format!("{base}/v1/chat/completions")
        }
    }
}

/// A caption of the PNG, JPEG or TIFF image at `path`: the text the model
/// sees in it, then a sentence or two about the product.
pub fn caption(opts: &VisionOptions, path: &Path) -> Result<String, MediaError> {
    let bytes = crate::read_limited(path, MAX_VISION_BYTES)?;
    let Some(format) = ImageFormat::from_bytes(&bytes) else {
        return Err(MediaError::UnsupportedImage {
            path: path.to_path_buf(),
        });
    };
    let url = opts.url();
    let image_url = format!("data:{};base64,{}", format.mime(), base64(&bytes));
    let request = json!({
        "model": opts.model,
        "max_tokens": 400,
        "temperature": 0,
        "messages": [{
            "role": "user",
            "content": [
                {"type": "text", "text": PROMPT},
                {"type": "image_url", "image_url": {"url": image_url}},
            ],
        }],
    });
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(VISION_TIMEOUT))
        .http_status_as_error(false)
        .build()
        .into();
    let mut call = agent.post(&url).content_type("application/json");
    if let Some(key) = &opts.api_key {
        call = call.header("Authorization", format!("Bearer {key}"));
    }
    let request_error = |source| MediaError::VisionRequest {
        url: url.clone(),
        source: Box::new(source),
    };
    let mut response = call.send(request.to_string()).map_err(request_error)?;
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .with_config()
        .limit(8 << 20)
        .read_to_string()
        .map_err(request_error)?;
    if !(200..300).contains(&status) {
        let body: String = body.trim().chars().take(ERROR_BODY_CHARS).collect();
        return Err(MediaError::VisionStatus { url, status, body });
    }
    let answer: Value = serde_json::from_str(&body).map_err(|e| MediaError::VisionResponse {
        url: url.clone(),
        detail: format!("not JSON: {e}"),
    })?;
    let content = &answer["choices"][0]["message"]["content"];
    let text = match content {
        Value::String(text) => text.clone(),
        // Some servers answer with content parts, like the request.
        Value::Array(parts) => parts
            .iter()
            .filter_map(|part| part["text"].as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        _ => {
            return Err(MediaError::VisionResponse {
                url,
                detail: "no choices[0].message.content".to_owned(),
            });
        }
    };
    Ok(text.trim().to_owned())
}

/// Standard base64 with padding (RFC 4648), for the data URL.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (input, expected) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), expected, "{input}");
        }
        assert_eq!(base64(&[0xFF, 0xFE, 0xFD]), "//79");
    }

    #[test]
    fn endpoint_settings_become_the_chat_url() {
        let url = |endpoint: &str| {
            VisionOptions {
                endpoint: endpoint.to_owned(),
                model: "m".to_owned(),
                api_key: None,
            }
            .url()
        };
        assert_eq!(
            url("http://localhost:8000"),
            "http://localhost:8000/v1/chat/completions"
        );
        assert_eq!(
            url("http://localhost:8000/v1/"),
            "http://localhost:8000/v1/chat/completions"
        );
        assert_eq!(
            url("https://x.example/v1/chat/completions"),
            "https://x.example/v1/chat/completions"
        );
    }

    #[test]
    fn debug_output_hides_the_key() {
        let options = VisionOptions {
            endpoint: "http://localhost".to_owned(),
            model: "m".to_owned(),
            api_key: Some("sk-secret".to_owned()),
        };
        assert!(!format!("{options:?}").contains("sk-secret"));
    }
}
