"""Offline side: feature tables for training, training, ONNX export, manifest."""
