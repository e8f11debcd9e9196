//! The page, embedded in the binary: plain HTML, CSS and JavaScript
//! modules from `web/`, served as they are (no build step, no network).

/// One embedded file.
#[derive(Debug, Clone, Copy)]
pub struct Asset {
    /// The `Content-Type`.
    pub content_type: &'static str,
    /// The bytes.
    pub body: &'static [u8],
}

const HTML: &str = "text/html; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

/// The file served at `path`, if any (`/` is `index.html`).
pub fn find(path: &str) -> Option<Asset> {
    let (content_type, body): (&str, &[u8]) = match path {
        "/" | "/index.html" => (HTML, include_bytes!("web/index.html")),
        "/style.css" => (CSS, include_bytes!("web/style.css")),
        "/app.js" => (JS, include_bytes!("web/app.js")),
        "/api.js" => (JS, include_bytes!("web/api.js")),
        "/catalog.js" => (JS, include_bytes!("web/catalog.js")),
        "/compare.js" => (JS, include_bytes!("web/compare.js")),
        "/render.js" => (JS, include_bytes!("web/render.js")),
        "/share.js" => (JS, include_bytes!("web/share.js")),
        _ => return None,
    };
    Some(Asset { content_type, body })
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_module_the_page_imports_is_embedded() {
        let index = String::from_utf8_lossy(super::find("/").expect("index").body).into_owned();
        let mut sources = vec![index];
        for name in [
            "/app.js",
            "/api.js",
            "/catalog.js",
            "/compare.js",
            "/render.js",
            "/share.js",
        ] {
            sources.push(String::from_utf8_lossy(super::find(name).expect(name).body).into_owned());
        }
        for src in &sources {
            for part in src
                .split("from './")
                .skip(1)
                .chain(src.split("src=\"/").skip(1))
                .chain(src.split("href=\"/").skip(1))
            {
                let file = part.split(['\'', '"']).next().unwrap_or("");
                if file.is_empty() || file.starts_with('#') {
                    continue;
                }
                assert!(
                    super::find(&format!("/{file}")).is_some(),
                    "{file} is referenced but not embedded"
                );
            }
            assert!(
                !src.contains("http://") || !src.contains("https://fonts"),
                "no external resources"
            );
        }
    }
}
