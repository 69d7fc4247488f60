//! Reading plates and masks: every format and pixel type the `image` crate
//! decodes, converted to RGB or grey with values in 0..=1.

use std::path::Path;

use image::{DynamicImage, ImageBuffer, Luma, Rgb32FImage};

#[derive(Debug, thiserror::Error)]
#[error("could not read {field} ({path}): {message}; send a PNG, JPEG, WebP, TIFF or EXR file")]
pub struct InputError {
    pub field: String,
    pub path: String,
    pub message: String,
}

fn decode(field: &str, path: &Path) -> Result<DynamicImage, InputError> {
    let error = |message: String| InputError {
        field: field.to_owned(),
        path: path.display().to_string(),
        message,
    };
    image::ImageReader::open(path)
        .map_err(|e| error(e.to_string()))?
        .with_guessed_format()
        .map_err(|e| error(e.to_string()))?
        .decode()
        .map_err(|e| error(e.to_string()))
}

/// Encodes a linear value with the sRGB transfer curve.
fn linear_to_srgb(value: f32) -> f32 {
    let value = value.clamp(0.0, 1.0);
    if value <= 0.003_130_8 {
        value * 12.92
    } else {
        1.055 * value.powf(1.0 / 2.4) - 0.055
    }
}

/// Reads a plate as RGB in 0..=1.
///
/// Alpha is composited over black, and 16-bit and float pixels keep their
/// precision. Float images (EXR) are taken as linear light and converted to
/// sRGB, because the models were trained on sRGB images.
pub fn read_plate(field: &str, path: &Path) -> Result<Rgb32FImage, InputError> {
    let image = decode(field, path)?;
    let linear = matches!(image, DynamicImage::ImageRgb32F(_) | DynamicImage::ImageRgba32F(_));
    let rgba = image.to_rgba32f();
    let mut plate = Rgb32FImage::new(rgba.width(), rgba.height());
    for (source, target) in rgba.pixels().zip(plate.pixels_mut()) {
        let [red, green, blue, alpha] = source.0;
        let alpha = alpha.clamp(0.0, 1.0);
        let encode = |channel: f32| if linear { linear_to_srgb(channel) } else { channel.clamp(0.0, 1.0) } * alpha;
        target.0 = [encode(red), encode(green), encode(blue)];
    }
    Ok(plate)
}

/// Reads a mask as grey in 0..=1; white (or opaque white) marks the area to repaint.
pub fn read_mask(field: &str, path: &Path) -> Result<ImageBuffer<Luma<f32>, Vec<f32>>, InputError> {
    let image = decode(field, path)?;
    let rgba = image.to_rgba32f();
    let mut mask = ImageBuffer::new(rgba.width(), rgba.height());
    for (source, target) in rgba.pixels().zip(mask.pixels_mut()) {
        let [red, green, blue, alpha] = source.0;
        let grey = (0.299 * red + 0.587 * green + 0.114 * blue).clamp(0.0, 1.0) * alpha.clamp(0.0, 1.0);
        *target = Luma([grey]);
    }
    Ok(mask)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn save(dir: &Path, name: &str, image: DynamicImage) -> std::path::PathBuf {
        let path = dir.join(name);
        image.save(&path).unwrap();
        path
    }

    #[test]
    fn pixel_types_convert_to_rgb_in_unit_range() {
        let dir = tempfile::tempdir().unwrap();
        let grey = save(
            dir.path(),
            "grey.png",
            DynamicImage::ImageLuma8(image::GrayImage::from_pixel(2, 2, Luma([128]))),
        );
        assert!((read_plate("image", &grey).unwrap().get_pixel(0, 0).0[0] - 128.0 / 255.0).abs() < 1e-6);

        let deep = image::ImageBuffer::from_pixel(2, 2, image::Rgb([1000u16, 30000, 65535]));
        let deep = save(dir.path(), "deep.png", DynamicImage::ImageRgb16(deep));
        let pixel = read_plate("image", &deep).unwrap().get_pixel(0, 0).0;
        assert!(
            (pixel[0] - 1000.0 / 65535.0).abs() < 1e-6,
            "16-bit precision is kept: {pixel:?}"
        );

        let half_transparent = image::RgbaImage::from_pixel(2, 2, image::Rgba([255, 255, 255, 128]));
        let half = save(dir.path(), "alpha.png", DynamicImage::ImageRgba8(half_transparent));
        assert!((read_plate("image", &half).unwrap().get_pixel(0, 0).0[1] - 128.0 / 255.0).abs() < 1e-6);

        let linear = Rgb32FImage::from_pixel(2, 2, image::Rgb([0.18, 0.0, 4.0]));
        let exr = save(dir.path(), "plate.exr", DynamicImage::ImageRgb32F(linear));
        let pixel = read_plate("image", &exr).unwrap().get_pixel(0, 0).0;
        assert!(
            (pixel[0] - 0.4614).abs() < 1e-3,
            "mid grey 0.18 linear is about 0.46 in sRGB: {pixel:?}"
        );
        assert!((pixel[2] - 1.0).abs() < 1e-6, "values above 1 are clipped: {pixel:?}");
    }

    #[test]
    fn corrupt_file_names_the_field() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("broken.png");
        std::fs::write(&path, b"\x89PNG\r\n\x1a\nnot really").unwrap();
        let message = read_plate("mask", &path).unwrap_err().to_string();
        assert!(message.starts_with("could not read mask"), "{message}");
    }
}
