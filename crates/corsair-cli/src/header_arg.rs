//! `--header 'Name: value'` arguments, parsed like curl's `-H`.

use http::{HeaderName, HeaderValue};

/// One `Name: value` header given on the command line.
#[derive(Debug, Clone)]
pub struct HeaderArg {
    /// The header name (lowercased by the `http` crate).
    pub name: HeaderName,
    /// The value, without surrounding whitespace.
    pub value: HeaderValue,
}

/// clap value parser for `--header`.
pub fn parse(s: &str) -> Result<HeaderArg, String> {
    let (name, value) = s
        .split_once(':')
        .ok_or_else(|| format!("`{s}` is not a header: write it as 'Name: value'"))?;
    let name = HeaderName::from_bytes(name.trim().as_bytes())
        .map_err(|_| format!("`{}` is not a valid header name", name.trim()))?;
    let value = HeaderValue::from_str(value.trim_matches([' ', '\t']))
        .map_err(|_| format!("the value of `{name}` has characters a header cannot carry"))?;
    Ok(HeaderArg { name, value })
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_like_curl() {
        let h = super::parse("Content-Type:  application/json ").unwrap();
        assert_eq!(h.name, "content-type");
        assert_eq!(h.value, "application/json");
        let h = super::parse("x-empty:").unwrap();
        assert_eq!(h.value, "");
        assert!(super::parse("no colon").is_err());
        assert!(super::parse("bad name: x").is_err());
        assert!(super::parse("x: a\nb").is_err());
    }
}
