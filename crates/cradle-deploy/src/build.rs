//! `build`: validate the workspace, then write its image. What `cradle
//! build` runs and what `deploy` runs when the image is out of date.

use std::path::Path;

use cradle_fs::Workspace;
use cradle_image::{BuildOptions, BuildReport, ImageError, Progress};

use crate::validate::{Validation, validate};

/// Why no image was written.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("the workspace is not valid ({} errors); nothing was built", validation.errors)]
    Invalid { validation: Box<Validation> },
    #[error(transparent)]
    Image(#[from] ImageError),
}

/// Validates `workspace` and, if it is valid, builds its image.
pub fn build(
    workspace: &Path,
    options: &BuildOptions,
    progress: &dyn Progress,
) -> Result<(Validation, BuildReport), BuildError> {
    let validation = validate(workspace);
    if !validation.ok {
        return Err(BuildError::Invalid {
            validation: Box::new(validation),
        });
    }
    let report = cradle_image::build(&Workspace::new(workspace), options, progress)?;
    Ok((validation, report))
}
