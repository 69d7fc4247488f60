//! Stored inputs of a job turned into what providers take: PNG bytes, data
//! URIs, sizes and aspect ratios.

use std::io::Cursor;

use base64::Engine as _;
use engine::{JobContext, JobError};
use image::{DynamicImage, GenericImageView, ImageFormat};

/// An input image decoded from storage.
pub struct InputImage {
    pub image: DynamicImage,
}

impl InputImage {
    /// Reads the stored input at `relative` (a path the server wrote for a
    /// base64 field); `field` names the request field in errors.
    pub async fn read(ctx: &JobContext, field: &str, relative: &str) -> Result<Self, JobError> {
        let path = ctx.input_path(relative);
        let field = field.to_owned();
        tokio::task::spawn_blocking(move || {
            let image = image::ImageReader::open(&path)
                .and_then(|reader| reader.with_guessed_format())
                .map_err(|error| JobError::failed(format!("could not read {field}: {error}")))?
                .decode()
                .map_err(|error| JobError::failed(format!("could not read image {field}: {error}")))?;
            Ok(Self { image })
        })
        .await
        .map_err(JobError::failed)?
    }

    /// Reads the stored input at `relative` when the request has one.
    pub async fn read_optional(
        ctx: &JobContext,
        field: &str,
        relative: Option<&str>,
    ) -> Result<Option<Self>, JobError> {
        match relative {
            Some(relative) => Ok(Some(Self::read(ctx, field, relative).await?)),
            None => Ok(None),
        }
    }

    pub fn size(&self) -> (u32, u32) {
        self.image.dimensions()
    }

    /// Encodes the image as PNG (8-bit RGB or RGBA).
    pub fn png(&self) -> Result<Vec<u8>, JobError> {
        encode_png(&self.image)
    }

    /// `data:image/png;base64,...`
    pub fn data_uri(&self) -> Result<String, JobError> {
        Ok(data_uri("image/png", &self.png()?))
    }

    /// Crops the image around its centre so that width / height lies in
    /// `min..=max`; images already inside are returned unchanged.
    pub fn crop_aspect(&self, min: f64, max: f64) -> InputImage {
        let (width, height) = self.size();
        let aspect = width as f64 / height as f64;
        let image = if aspect > max {
            let new_width = ((height as f64 * max).floor() as u32).max(1);
            self.image.crop_imm((width - new_width) / 2, 0, new_width, height)
        } else if aspect < min {
            let new_height = ((width as f64 / min).floor() as u32).max(1);
            self.image.crop_imm(0, (height - new_height) / 2, width, new_height)
        } else {
            self.image.clone()
        };
        InputImage { image }
    }

    /// Resizes to exactly `width` × `height`, filling the frame and cropping the overflow.
    pub fn fill(&self, width: u32, height: u32) -> InputImage {
        InputImage {
            image: self
                .image
                .resize_to_fill(width, height, image::imageops::FilterType::Lanczos3),
        }
    }
}

pub fn encode_png(image: &DynamicImage) -> Result<Vec<u8>, JobError> {
    let image = if image.color().has_alpha() {
        DynamicImage::ImageRgba8(image.to_rgba8())
    } else {
        DynamicImage::ImageRgb8(image.to_rgb8())
    };
    let mut bytes = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png)
        .map_err(|error| JobError::failed(format!("encoding a PNG failed: {error}")))?;
    Ok(bytes)
}

pub fn data_uri(mime: &str, bytes: &[u8]) -> String {
    format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// OpenAI's edit mask from a user's mask: white (repaint) becomes
/// transparent, black stays opaque, at the image's size.
pub fn openai_mask(mask: &InputImage, width: u32, height: u32) -> Result<Vec<u8>, JobError> {
    let grey = mask
        .image
        .resize_exact(width, height, image::imageops::FilterType::Triangle)
        .to_luma8();
    let rgba = image::RgbaImage::from_fn(width, height, |x, y| {
        let value = grey.get_pixel(x, y)[0];
        image::Rgba([0, 0, 0, 255 - value])
    });
    encode_png(&DynamicImage::ImageRgba8(rgba))
}

/// Orientation of a working size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Orientation {
    Landscape,
    Portrait,
    Square,
}

impl Orientation {
    pub fn of(width: u32, height: u32) -> Self {
        match width.cmp(&height) {
            std::cmp::Ordering::Greater => Self::Landscape,
            std::cmp::Ordering::Less => Self::Portrait,
            std::cmp::Ordering::Equal => Self::Square,
        }
    }

    /// Returns the aspect ratio most providers take: `16:9`, `9:16` or `1:1`.
    pub fn aspect_ratio(self) -> &'static str {
        match self {
            Self::Landscape => "16:9",
            Self::Portrait => "9:16",
            Self::Square => "1:1",
        }
    }
}

/// Converts provider output to PNG unless it already is one.
pub fn to_png(bytes: Vec<u8>, what: &str) -> Result<Vec<u8>, JobError> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok(bytes);
    }
    let image = image::load_from_memory(&bytes)
        .map_err(|error| JobError::failed(format!("{what} is not an image this server can read: {error}")))?;
    encode_png(&image)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orientation_picks_aspect_ratio() {
        assert_eq!(Orientation::of(1280, 720).aspect_ratio(), "16:9");
        assert_eq!(Orientation::of(720, 1280).aspect_ratio(), "9:16");
        assert_eq!(Orientation::of(512, 512).aspect_ratio(), "1:1");
    }

    #[test]
    fn crop_keeps_aspect_in_range() {
        let wide = InputImage {
            image: DynamicImage::new_rgb8(400, 100),
        };
        let cropped = wide.crop_aspect(0.52, 1.98);
        assert_eq!(cropped.size(), (198, 100));
        let tall = InputImage {
            image: DynamicImage::new_rgb8(100, 400),
        };
        assert_eq!(tall.crop_aspect(0.52, 1.98).size(), (100, 192));
        let fine = InputImage {
            image: DynamicImage::new_rgb8(160, 90),
        };
        assert_eq!(fine.crop_aspect(0.52, 1.98).size(), (160, 90));
    }

    #[test]
    fn openai_mask_makes_white_transparent() {
        let mask = InputImage {
            image: DynamicImage::ImageLuma8(image::GrayImage::from_fn(2, 1, |x, _| {
                image::Luma([if x == 0 { 255 } else { 0 }])
            })),
        };
        let png = openai_mask(&mask, 2, 1).unwrap();
        let decoded = image::load_from_memory(&png).unwrap().to_rgba8();
        assert_eq!(decoded.get_pixel(0, 0)[3], 0);
        assert_eq!(decoded.get_pixel(1, 0)[3], 255);
    }
}
