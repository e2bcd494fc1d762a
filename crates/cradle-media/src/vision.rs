//! Captions for images from an OpenAI-compatible vision model
//! (`POST /v1/chat/completions` with the picture as an `image_url` data
//! URL): vLLM, Ollama, OpenAI and the like. Optional and configured; OCR
//! does the reading where it is installed.

use crate::ImageFormat;
use crate::error::MediaError;
use base64::Engine;
use base64::prelude::BASE64_STANDARD;
use cradle_openai::{Endpoint, OpenAiError};
use serde_json::json;
use std::path::Path;
use std::time::Duration;

/// The largest image sent, in bytes (as base64 it grows by a third).
pub const MAX_VISION_BYTES: u64 = 16 << 20;
/// One request, answer included.
const VISION_TIMEOUT: Duration = Duration::from_secs(120);
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
        Endpoint::new(&self.endpoint).url("chat/completions")
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
    let mut endpoint = Endpoint::new(&opts.endpoint);
    endpoint.api_key = opts.api_key.clone();
    endpoint.timeout = VISION_TIMEOUT;
    endpoint.max_retries = 2;
    endpoint.max_answer_bytes = 8 << 20;
    let url = endpoint.url("chat/completions");
    let image_url = format!(
        "data:{};base64,{}",
        format.mime(),
        BASE64_STANDARD.encode(&bytes)
    );
    let messages = json!([{
        "role": "user",
        "content": [
            {"type": "text", "text": PROMPT},
            {"type": "image_url", "image_url": {"url": image_url}},
        ],
    }]);
    let text = endpoint
        .client()
        .and_then(|client| client.chat(&opts.model, messages, 400, 0.0))
        .map_err(|error| match error {
            OpenAiError::Status { status, body, .. } => {
                MediaError::VisionStatus { url, status, body }
            }
            OpenAiError::Response { what, .. } => MediaError::VisionResponse { url, detail: what },
            other => MediaError::VisionRequest {
                url,
                source: Box::new(other),
            },
        })?;
    Ok(text.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

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
