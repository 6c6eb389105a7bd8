"""Python UDFs of the job: ONNX scoring and alert reasons."""
