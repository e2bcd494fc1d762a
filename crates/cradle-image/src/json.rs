//! Canonical JSON for the image's config, manifest and indexes: object keys
//! sorted by their bytes, no insignificant whitespace, strings escaped as
//! serde_json escapes them. A digest is taken of these bytes, so they must
//! not depend on the order a map was filled in, nor on whether some crate
//! in the build switched serde_json's maps to insertion order.

use serde_json::Value;

/// The canonical bytes of `value`.
pub fn canonical(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    write(value, &mut out);
    out
}

fn write(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push(b'{');
            for (i, (key, value)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(key, out);
                out.push(b':');
                write(value, out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write(item, out);
            }
            out.push(b']');
        }
        Value::String(text) => write_string(text, out),
        // Numbers, booleans and null have one spelling in serde_json.
        scalar => out.extend_from_slice(scalar.to_string().as_bytes()),
    }
}

fn write_string(text: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(Value::String(text.to_owned()).to_string().as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_sorted_at_every_depth_and_nothing_else_changes() {
        let value = json!({"b": [3, {"z": null, "a": true}], "a": "x\"y", "B": 1});
        assert_eq!(
            String::from_utf8(canonical(&value)).unwrap(),
            r#"{"B":1,"a":"x\"y","b":[3,{"a":true,"z":null}]}"#
        );
    }
}
