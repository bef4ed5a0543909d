# Rule onnx_model: a trained network as ONNX beside its model.pt.
from wilddeblur.deploy.onnx_export import export_onnx
from wilddeblur.snakejob import log_to

log_to(snakemake)
print(f"wrote {export_onnx(snakemake.input.model, snakemake.output[0], force=True)}")
