//! The browser model's parsers take hostile bytes from servers: they must
//! never panic, whatever the input.

use corsair::browser::header_list::parse_token_list;
use corsair::browser::mime::{parse_mime_type, parse_mime_type_bytes};
use corsair::browser::safelist::{
    cors_unsafe_request_header_names, is_safelisted_for, parse_single_range,
};
use corsair::browser::Profile;
use proptest::prelude::*;

proptest! {
    #[test]
    fn mime_parser_total(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        if let Some(m) = parse_mime_type_bytes(&bytes) {
            // Serializing and re-parsing is stable.
            let again = parse_mime_type(&m.to_string());
            prop_assert_eq!(again, Some(m));
        }
    }

    #[test]
    fn mime_parser_on_strings(s in "\\PC{0,80}") {
        let _ = parse_mime_type(&s);
    }

    #[test]
    fn token_list_total(lines in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..60), 0..4)) {
        let refs: Vec<&[u8]> = lines.iter().map(|l| l.as_slice()).collect();
        if let Ok(Some(tokens)) = parse_token_list(&refs) {
            prop_assert!(tokens.iter().all(|t| corsair::names::is_token(t)));
        }
    }

    #[test]
    fn safelist_and_range_total(name in "[a-zA-Z-]{1,20}", value in proptest::collection::vec(any::<u8>(), 0..300)) {
        for p in Profile::ALL {
            let _ = is_safelisted_for(p, &name, &value);
            let _ = cors_unsafe_request_header_names(p, vec![(name.as_str(), value.as_slice())]);
        }
        let _ = parse_single_range(&value, true);
        let _ = parse_single_range(&value, false);
    }

    #[test]
    fn max_age_total(lines in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..30), 0..3)) {
        let refs: Vec<&[u8]> = lines.iter().map(|l| l.as_slice()).collect();
        for p in Profile::ALL {
            let age = p.max_age(&refs);
            if let Some(cap) = p.max_age_cap() {
                prop_assert!(age <= cap);
            }
        }
    }
}
