"""Deployment: export a trained model (ONNX, TorchScript) with its metadata, and predict on new images."""

from .export import FORMATS, Exported, ExportError, export_model, export_run
from .inputs import InputSet, collect_inputs
from .metadata import Metadata, metadata_path, read_metadata, run_metadata
from .predict import Predictions, model_inputs, predict, predict_files, predict_run, run_runtime
from .runtime import OnnxRuntime, Runtime, TorchRuntime, load_runtime

__all__ = ["FORMATS", "ExportError", "Exported", "InputSet", "Metadata", "OnnxRuntime", "Predictions", "Runtime",
           "TorchRuntime", "collect_inputs", "export_model", "export_run", "load_runtime", "metadata_path",
           "model_inputs", "predict", "predict_files", "predict_run", "read_metadata", "run_metadata", "run_runtime"]
