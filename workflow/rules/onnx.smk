# Each trained network as ONNX beside its model.pt, for ONNX Runtime, OpenVINO or TensorRT:
# `snakemake export_onnx` (opt-in, not part of `all`; needs the deploy extra).


rule export_onnx:
    input:
        expand("results/train/{model}/model.onnx", model=NETWORKS),


rule onnx_model:
    input:
        model="results/train/{model}/model.pt",
    output:
        "results/train/{model}/model.onnx",
    log:
        "logs/onnx/{model}.log",
    conda:
        "../../envs/deploy.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        code_version=CODE_VERSION,
    script:
        "../../scripts/export_onnx.py"
