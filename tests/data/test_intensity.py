"""Pixel values read at their native depth and scaled by the intensity policy: 16-bit PNG/TIFF and float TIFF
give what their 8-bit versions give; DICOM reads in HU; the policy travels with a run to predict."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from truncatedtl.backbones import load_backbone
from truncatedtl.data import DataError, parse_intensity, read_image
from truncatedtl.data.images import in_memory
from truncatedtl.data.transforms import preprocess
from truncatedtl.deploy.inputs import collect_inputs
from truncatedtl.deploy.metadata import Metadata
from truncatedtl.deploy.predict import predict
from truncatedtl.deploy.runtime import TorchRuntime
from truncatedtl.engine.run import RunConfig, model_spec
from truncatedtl.tasks import build_network

SIZE = 32


def picture(shape: tuple[int, int] = (40, 48)) -> np.ndarray:
    """A smooth picture in [0, 1] with a bright blob: (H, W) float64."""
    y, x = np.mgrid[0:shape[0], 0:shape[1]] / max(shape)
    return np.clip(0.2 + 0.5 * x + 0.4 * np.exp(-((x - 0.5) ** 2 + (y - 0.4) ** 2) / 0.02), 0, 1)


def save(path: Path, pixels: np.ndarray) -> Path:
    Image.fromarray(pixels).save(path)
    return path


def tensor_of(path: Path, intensity: str = "dtype") -> torch.Tensor:
    return preprocess(read_image(path), SIZE, 2, intensity).int()


@pytest.fixture
def pair16(tmp_path: Path) -> tuple[Path, Path]:
    """The same picture as a 16-bit PNG and as an 8-bit PNG."""
    wide = np.round(picture() * 65535).astype(np.uint16)
    return save(tmp_path / "wide.png", wide), save(tmp_path / "narrow.png", np.round(wide / 257).astype(np.uint8))


def test_16_bit_png_matches_its_8_bit_version(pair16: tuple[Path, Path]) -> None:
    wide, narrow = pair16
    assert read_image(wide).array.dtype == np.uint16
    a, b = tensor_of(wide), tensor_of(narrow)
    assert (a - b).abs().max() <= 1
    assert 0.3 < a.float().mean() / 255 < 0.8  # not clipped to white (convert("L") made 99 % of it 255)


def test_16_bit_and_float_tiff_match_the_8_bit_version(tmp_path: Path) -> None:
    narrow = save(tmp_path / "narrow.png", np.round(picture() * 255).astype(np.uint8))
    wide = save(tmp_path / "wide.tif", np.round(picture() * 65535).astype(np.uint16))
    floats = save(tmp_path / "float.tif", picture().astype(np.float32))
    assert read_image(floats).array.dtype == np.float32 and read_image(floats).range == (0.0, 1.0)
    for path in (wide, floats):
        assert (tensor_of(path) - tensor_of(narrow)).abs().max() <= 1


def test_int16_tiff_keeps_its_sign(tmp_path: Path) -> None:
    tifffile = pytest.importorskip("tifffile", reason="tifffile writes the signed 16-bit TIFF")
    signed = (np.round(picture() * 2000) - 1000).astype(np.int16)
    tifffile.imwrite(tmp_path / "signed.tif", signed)
    pixels = read_image(tmp_path / "signed.tif")
    assert pixels.array.dtype == np.int16 and pixels.array.min() < 0
    assert np.array_equal(pixels.array, signed)
    window = tensor_of(tmp_path / "signed.tif", "window:0,2000")
    expected = preprocess(read_image(save(tmp_path / "ref.png", np.round(picture() * 255).astype(np.uint8))), SIZE, 2)
    assert (window - expected.int()).abs().max() <= 1


def test_predict_gives_the_same_probabilities_for_16_and_8_bit(pair16: tuple[Path, Path]) -> None:
    torch.manual_seed(0)
    backbone = load_backbone("resnet18", "none")
    config = RunConfig(data="synthetic", backbone="resnet18", strategy="ttl", cut=2, image_size=SIZE)
    model = build_network(model_spec(config, backbone, 2), backbone).eval()
    metadata = Metadata(backbone="resnet18", strategy="ttl", cut=2, image_size=SIZE, spatial_dims=2, in_chans=3,
                        mean=list(backbone.mean), std=list(backbone.std), classes=["a", "b"], task="binary")
    probs = predict(TorchRuntime(model), metadata, collect_inputs(list(pair16), 2)).probabilities
    assert np.abs(probs[0] - probs[1]).max() < 1e-3


def write_ct(path: Path, stored: np.ndarray, slope: float, intercept: float, window: tuple[float, float] | None) -> Path:
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = CTImageStorage, generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID, ds.Modality = CTImageStorage, meta.MediaStorageSOPInstanceUID, "CT"
    ds.Rows, ds.Columns = stored.shape
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.RescaleSlope, ds.RescaleIntercept = slope, intercept
    if window is not None:
        ds.WindowCenter, ds.WindowWidth = window
    ds.PixelData = stored.astype(np.uint16).tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path


def test_dicom_reads_in_hounsfield_units(tmp_path: Path) -> None:
    stored = np.array([[0, 1024, 2048, 4095]] * 4, dtype=np.uint16)
    pixels = read_image(write_ct(tmp_path / "ct.dcm", stored, 0.5, -1024, None))
    assert np.allclose(pixels.array[0], [-1024, -512, 0, 1023.5])
    assert pixels.range == (-1024.0, 4095 * 0.5 - 1024)
    windowed = read_image(write_ct(tmp_path / "w.dcm", stored, 0.5, -1024, (40, 400)))
    assert windowed.range == (-160.0, 240.0)
    soft = preprocess(windowed, 4, 2)[0, 0]  # -1024, -512 below the window; 0 HU at 160/400; 1023.5 above
    assert soft.tolist() == [0, 0, 102, 255]
    hu = preprocess(windowed, 4, 2, "window:0,2048")[0, 0]
    assert hu.tolist() == [0, 64, 128, 255]


def test_policies_are_parsed_or_refused() -> None:
    assert parse_intensity("percentile:0.5,99.5") == ("percentile", (0.5, 99.5))
    assert parse_intensity("window:40,400") == ("window", (40.0, 400.0))
    for bad, fragment in (("window:40", "expected dtype"), ("percentile:99,1", "LO < HI"),
                          ("window:40,-1", "width must be positive"), ("gamma", "expected dtype")):
        with pytest.raises(DataError, match=fragment):
            parse_intensity(bad)


def test_minmax_and_percentile_stretch_a_dark_image(tmp_path: Path) -> None:
    dark = save(tmp_path / "dark.png", np.round(picture() * 40).astype(np.uint8))
    assert tensor_of(dark).max() <= 40
    assert tensor_of(dark, "minmax").max() >= 250
    stretched = tensor_of(dark, "percentile:0.5,99.5")
    assert stretched.max() == 255 and stretched.float().mean() > 3 * tensor_of(dark).float().mean()


def test_policy_is_in_the_run_config_and_reaches_predict(minmax_run: Path, tmp_path: Path) -> None:
    from truncatedtl.deploy import predict_run
    from truncatedtl.deploy.metadata import run_metadata

    _, metadata = run_metadata(minmax_run)
    assert metadata.intensity == "minmax"
    dark = save(tmp_path / "dark.png", np.round(picture() * 40).astype(np.uint8))
    bright = save(tmp_path / "bright.png", np.round(picture() * 255).astype(np.uint8))
    probs = predict_run(minmax_run, [dark, bright]).probabilities  # minmax: the same picture, the same answer
    assert np.abs(probs[0] - probs[1]).max() < 0.05


def test_in_memory_arrays_use_their_dtype_range() -> None:
    array = np.arange(64, dtype=np.uint8).reshape(8, 8)
    assert torch.equal(preprocess(in_memory(array), 8, 2)[0], torch.from_numpy(array))
    wide = array.astype(np.uint16) * 257
    assert torch.equal(preprocess(in_memory(wide), 8, 2)[0], torch.from_numpy(array))
    assert preprocess(in_memory(array.astype(np.int64)), 8, 2).max() == 255  # no dtype range: min-max
