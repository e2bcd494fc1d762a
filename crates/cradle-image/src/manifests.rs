//! The files beside the image: `compose.yaml` and the Kubernetes manifests
//! in `k8s/`, rendered from the templates in `templates/` (kept in the
//! repository, compiled into cradle). A template names values as
//! `{{name}}`; rendering fails on a name it does not know, so a template
//! and its values cannot drift apart unnoticed. Values are names, numbers
//! and digests checked before (no quoting is needed).

use std::collections::BTreeMap;

use crate::ImageError;

/// `(path below the output directory, template)`.
pub const TEMPLATES: [(&str, &str); 4] = [
    ("compose.yaml", include_str!("../templates/compose.yaml")),
    (
        "k8s/deployment.yaml",
        include_str!("../templates/k8s/deployment.yaml"),
    ),
    (
        "k8s/service.yaml",
        include_str!("../templates/k8s/service.yaml"),
    ),
    (
        "k8s/state.yaml",
        include_str!("../templates/k8s/state.yaml"),
    ),
];

/// Renders every template with `values`: `(path, text)`.
pub fn render_all(
    values: &BTreeMap<&str, String>,
) -> Result<Vec<(&'static str, String)>, ImageError> {
    TEMPLATES
        .iter()
        .map(|(path, template)| Ok((*path, render(path, template, values)?)))
        .collect()
}

/// Replaces every `{{name}}` of `template` by its value.
pub fn render(
    name: &str,
    template: &str,
    values: &BTreeMap<&str, String>,
) -> Result<String, ImageError> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or_else(|| ImageError::Template {
            template: name.to_owned(),
            what: "a `{{` is not closed".into(),
        })?;
        let key = after[..end].trim();
        let value = values.get(key).ok_or_else(|| ImageError::Template {
            template: name.to_owned(),
            what: format!("it names `{key}`, which has no value"),
        })?;
        out.push_str(value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_names_are_refused() {
        let mut values = BTreeMap::new();
        values.insert("a", "1".to_owned());
        assert_eq!(render("t", "x{{a}}y{{ a }}", &values).unwrap(), "x1y1");
        assert!(
            render("t", "{{b}}", &values)
                .unwrap_err()
                .to_string()
                .contains("`b`")
        );
        assert!(render("t", "{{a", &values).is_err());
        // `${VAR:-default}` is compose's, not ours.
        assert_eq!(render("t", "${P:-{{a}}}", &values).unwrap(), "${P:-1}");
    }
}
