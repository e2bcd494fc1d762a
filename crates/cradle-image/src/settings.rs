//! The settings of a workspace's image and deployment, resolved once: the
//! customer id (`cradle.toml`, else the published delivery's), the port,
//! the memory limit and the image name (`[deploy]`), and the delivery the
//! image carries.

use std::path::PathBuf;

use cradle_core::config::Config;
use cradle_fs::Workspace;

use crate::ImageError;

/// The port the console listens on unless `[deploy] port` says otherwise.
pub const DEFAULT_PORT: u16 = 9314;
/// The memory limit of a deployment unless `[deploy] memory_mb` says
/// otherwise: the server maps its data instead of reading it into memory,
/// so the data's size counts as reclaimable page cache, not as this.
pub const DEFAULT_MEMORY_MB: u64 = 2048;
/// The longest customer id: `cradle-<id>-state` must stay a Kubernetes name
/// (63 characters).
pub const MAX_CUSTOMER_LEN: usize = 40;

/// What a workspace's image is built with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub customer: String,
    pub port: u16,
    pub memory_mb: u64,
    /// The image's name without tag (`cradle-acme`); also the name of its
    /// container, deployment and state volume.
    pub name: String,
    /// The published delivery the image carries.
    pub delivery: u64,
    /// When that delivery was published (RFC 3339).
    pub committed_at: String,
}

impl Settings {
    /// Reads `cradle.toml` and the newest delivery record.
    pub fn resolve(workspace: &Workspace) -> Result<Settings, ImageError> {
        let config_path = workspace.config_file();
        let config = Config::load(&config_path)?;
        let lakehouse = workspace.lakehouse_dir();
        let (record, _) = cradle_lakehouse::deliveries::latest(&lakehouse)
            .map_err(|source| ImageError::Delivery { source })?
            .ok_or_else(|| ImageError::NoDelivery {
                workspace: workspace.root().to_path_buf(),
            })?;
        let customer = config
            .customer
            .clone()
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| record.customer.clone());
        check_customer(&customer).map_err(|why| ImageError::Customer {
            customer: customer.clone(),
            why,
            config: config_path.clone(),
        })?;
        let port = config.deploy.port.unwrap_or(DEFAULT_PORT);
        if port == 0 {
            return Err(setting("port", "0 is not a port".into(), config_path));
        }
        let memory_mb = config.deploy.memory_mb.unwrap_or(DEFAULT_MEMORY_MB);
        if memory_mb < 128 {
            return Err(setting(
                "memory_mb",
                format!("{memory_mb} MiB is too little for the server (at least 128)"),
                config_path,
            ));
        }
        let name = config
            .deploy
            .image
            .clone()
            .unwrap_or_else(|| format!("cradle-{customer}"));
        crate::oci::Tag::parse(&format!("{name}:1"))
            .map_err(|why| setting("image", why, config_path.clone()))?;
        Ok(Settings {
            customer,
            port,
            memory_mb,
            name,
            delivery: record.delivery,
            committed_at: record.committed_at,
        })
    }

    /// The tag an image gets without `--tag`: `<name>:<delivery>`.
    pub fn default_tag(&self) -> String {
        format!("{}:{}", self.name, self.delivery)
    }

    /// The name of the deployment's container, compose project, Kubernetes
    /// objects: the image name's last component.
    pub fn deployment_name(&self) -> &str {
        self.name.rsplit('/').next().unwrap_or(&self.name)
    }
}

fn setting(setting: &'static str, why: String, config: PathBuf) -> ImageError {
    ImageError::Setting {
        setting,
        why,
        config,
    }
}

/// A customer id must name a Docker image, a container and Kubernetes
/// objects: lowercase letters, digits and `-`, starting and ending with a
/// letter or digit.
pub fn check_customer(customer: &str) -> Result<(), String> {
    if customer.is_empty() {
        return Err(
            "it is empty (ingest was run without --customer and cradle.toml names none)".into(),
        );
    }
    if customer.len() > MAX_CUSTOMER_LEN {
        return Err(format!("it is longer than {MAX_CUSTOMER_LEN} characters"));
    }
    if !customer
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err("it holds characters other than lowercase letters, digits and -".into());
    }
    if customer.starts_with('-') || customer.ends_with('-') {
        return Err("it starts or ends with -".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customer_ids() {
        assert!(check_customer("acme").is_ok());
        assert!(check_customer("lightnet-2").is_ok());
        for bad in ["", "Acme", "acme_gmbh", "-acme", "a.b", &"a".repeat(41)] {
            assert!(check_customer(bad).is_err(), "{bad}");
        }
    }
}
