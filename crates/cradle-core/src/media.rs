//! The media types a delivery brings besides its tables (datasheets,
//! pictures, documents): one list of names and signatures that ingest,
//! enrich, the catalog and the media reader all use.

/// A kind of media file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaType {
    Pdf,
    Png,
    Jpeg,
    Tiff,
    Gif,
    Webp,
    Bmp,
    Svg,
    /// A word-processor document (`.docx`, `.doc`, `.odt`).
    Document,
}

/// Every file name extension of a media file (lower case, without the
/// dot), with its type.
pub const EXTENSIONS: &[(&str, MediaType)] = &[
    ("pdf", MediaType::Pdf),
    ("png", MediaType::Png),
    ("jpg", MediaType::Jpeg),
    ("jpeg", MediaType::Jpeg),
    ("tif", MediaType::Tiff),
    ("tiff", MediaType::Tiff),
    ("gif", MediaType::Gif),
    ("webp", MediaType::Webp),
    ("bmp", MediaType::Bmp),
    ("svg", MediaType::Svg),
    ("docx", MediaType::Document),
    ("doc", MediaType::Document),
    ("odt", MediaType::Document),
];

impl MediaType {
    /// By a file name's extension, in any case (`Datenblatt.PDF`).
    pub fn from_extension(extension: &str) -> Option<MediaType> {
        EXTENSIONS
            .iter()
            .find(|(known, _)| known.eq_ignore_ascii_case(extension))
            .map(|(_, media)| *media)
    }

    /// By a file name or a link as products name their media
    /// (`media/LW-1.jpg`, `https://cdn.example/a.pdf?v=2#page=1`): the
    /// extension of the last path segment, before any query or fragment.
    pub fn from_name(name: &str) -> Option<MediaType> {
        let name = name.trim();
        let is_link = name
            .get(..7)
            .is_some_and(|p| p.eq_ignore_ascii_case("http://"))
            || name
                .get(..8)
                .is_some_and(|p| p.eq_ignore_ascii_case("https://"));
        let path = if is_link {
            name.split(['?', '#']).next().unwrap_or(name)
        } else {
            name
        };
        let file = path.rsplit(['/', '\\']).next().unwrap_or(path);
        let (stem, extension) = file.rsplit_once('.')?;
        if stem.is_empty() {
            return None;
        }
        MediaType::from_extension(extension)
    }

    /// By the first bytes of the file, for the types that have a
    /// signature long enough not to be mistaken for text (BMP's `BM` is
    /// not: a CSV may start with it); a delivery's names lie more often
    /// than its bytes.
    pub fn from_magic(bytes: &[u8]) -> Option<MediaType> {
        const SIGNATURES: &[(&[u8], MediaType)] = &[
            (b"%PDF-", MediaType::Pdf),
            (b"\x89PNG\r\n\x1a\n", MediaType::Png),
            (&[0xFF, 0xD8, 0xFF], MediaType::Jpeg),
            (b"II*\0", MediaType::Tiff),
            (b"MM\0*", MediaType::Tiff),
            (b"GIF87a", MediaType::Gif),
            (b"GIF89a", MediaType::Gif),
        ];
        if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            return Some(MediaType::Webp);
        }
        SIGNATURES
            .iter()
            .find(|(magic, _)| bytes.starts_with(magic))
            .map(|(_, media)| *media)
    }

    /// A short name: `pdf`, `png`, `jpeg`, `tiff`, `gif`, `webp`, `bmp`,
    /// `svg`, `document`.
    pub fn name(self) -> &'static str {
        match self {
            MediaType::Pdf => "pdf",
            MediaType::Png => "png",
            MediaType::Jpeg => "jpeg",
            MediaType::Tiff => "tiff",
            MediaType::Gif => "gif",
            MediaType::Webp => "webp",
            MediaType::Bmp => "bmp",
            MediaType::Svg => "svg",
            MediaType::Document => "document",
        }
    }

    /// A picture (OCR and captions apply).
    pub fn is_image(self) -> bool {
        !matches!(self, MediaType::Pdf | MediaType::Document)
    }

    /// `pdf`, `image` or `document`: how the catalog lists it.
    pub fn family(self) -> &'static str {
        match self {
            MediaType::Pdf => "pdf",
            MediaType::Document => "document",
            _ => "image",
        }
    }

    /// The MIME type.
    pub fn mime(self) -> &'static str {
        match self {
            MediaType::Pdf => "application/pdf",
            MediaType::Png => "image/png",
            MediaType::Jpeg => "image/jpeg",
            MediaType::Tiff => "image/tiff",
            MediaType::Gif => "image/gif",
            MediaType::Webp => "image/webp",
            MediaType::Bmp => "image/bmp",
            MediaType::Svg => "image/svg+xml",
            MediaType::Document => "application/octet-stream",
        }
    }
}

/// The form under which file references are compared: the last path
/// segment (of a path with `/` or `\`, or of a URL without its query and
/// fragment), `%20`-style escapes decoded, lowercase.
pub fn normalise_file_name(reference: &str) -> String {
    let reference = reference.trim();
    let without_query = match reference.find("://") {
        Some(_) => reference.split(['?', '#']).next().unwrap_or_default(),
        None => reference,
    };
    let base = without_query
        .trim_end_matches(['/', '\\'])
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default();
    percent_decode(base).trim().to_lowercase()
}

/// `%XX` escapes decoded where they form UTF-8; anything else kept.
pub fn percent_decode(text: &str) -> String {
    if !text.contains('%') {
        return text.to_owned();
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(high), Some(low)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((high * 16 + low) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_links_and_signatures() {
        assert_eq!(MediaType::from_name("Datenblatt.PDF"), Some(MediaType::Pdf));
        assert_eq!(
            MediaType::from_name("https://cdn.example/x/LW-1.jpg?v=2#top"),
            Some(MediaType::Jpeg)
        );
        assert_eq!(
            MediaType::from_name("media\\LW-1_01.png"),
            Some(MediaType::Png)
        );
        assert_eq!(MediaType::from_name("https://example.com/page"), None);
        assert_eq!(MediaType::from_name(".pdf"), None);
        assert_eq!(MediaType::from_name("preise.csv"), None);
        assert_eq!(MediaType::from_magic(b"%PDF-1.7"), Some(MediaType::Pdf));
        assert_eq!(
            MediaType::from_magic(b"RIFF\0\0\0\0WEBPVP8 "),
            Some(MediaType::Webp)
        );
        assert_eq!(MediaType::from_magic(b"RIFF\0\0\0\0WAVE"), None);
        assert_eq!(MediaType::from_magic(b"BMEcat;Artikel\n"), None);
        assert!(MediaType::Tiff.is_image() && !MediaType::Pdf.is_image());
        for (extension, media) in EXTENSIONS {
            assert_eq!(MediaType::from_extension(extension), Some(*media));
        }
    }
}
