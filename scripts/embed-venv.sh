#!/usr/bin/env bash
# The Python reference for the embedding parity test and benchmark:
# sentence-transformers on PyTorch (CPU), in ~/.cache/cradle/embed-venv
# (or $CRADLE_EMBED_VENV). Prints the venv's python on stdout.
#
# PyPI's Linux torch wheel declares the whole CUDA stack as dependencies
# (5.8 GB installed, triton alone 1 GB). It cannot import without the CUDA
# libraries it links against, but it never loads triton, cuSOLVER, NVTX or
# the CUDA Python bindings on a CPU. So every package is pinned and
# installed with --no-deps, leaving those out: 4.5 GB instead of 5.8 GB,
# 86 s from an empty pip cache instead of 118 s (measured on the 2-core
# development machine). (PyTorch's own CPU-only wheel index is
# not PyPI, which is all the project's machines reach.)
set -euo pipefail

venv="${CRADLE_EMBED_VENV:-$HOME/.cache/cradle/embed-venv}"
if "$venv/bin/python" -c "import sentence_transformers, torch" 2>/dev/null; then
  echo "$venv/bin/python"
  exit 0
fi
echo "setting up $venv (sentence-transformers, torch for the CPU; about 90 s)" >&2
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps -r /dev/stdin >&2 <<'REQ'
torch==2.15.0
nvidia-cublas==13.4.1.3
nvidia-cuda-cupti==13.2.86
nvidia-cuda-nvrtc==13.2.86
nvidia-cuda-runtime==13.2.86
nvidia-cudnn-cu13==9.26.0.51
nvidia-cufft==12.2.0.57
nvidia-cufile==1.17.1.22
nvidia-cusparse==12.7.10.12
nvidia-cusparselt-cu13==0.8.1
nvidia-nccl-cu13==2.30.7
nvidia-nvjitlink==13.5.37
nvidia-nvshmem-cu13==3.7.2
filelock==4.3.1
fsspec==2026.9.0
Jinja2==3.1.6
MarkupSafe==3.0.4
mpmath==1.3.0
networkx==3.6.1
sympy==1.14.0
typing_extensions==4.16.0
sentence-transformers==6.2.0
transformers==5.24.0
tokenizers==0.23.3
safetensors==0.8.0
huggingface_hub==2.4.0
hf-xet==1.8.0
numpy==2.4.6
scipy==1.17.1
scikit-learn==1.9.1
joblib==1.6.0
threadpoolctl==3.8.0
tqdm==4.70.1
regex==2026.11.19
PyYAML==6.0.4
packaging==26.4
annotated-doc==0.0.7
annotated-types==0.8.0
anyio==4.16.0
click==8.5.1
h11==0.16.0
httpcore2==2.16.2
httpx2==2.16.2
idna==3.20
markdown-it-py==4.3.0
mdurl==0.1.2
Pygments==2.21.0
rich==15.0.0
shellingham==1.5.4
typer==0.29.2
truststore==0.10.5
cloudpickle==3.1.3
narwhals==2.29.0
pydantic==2.14.4
pydantic_core==2.50.5
typing-inspection==0.4.5
REQ
"$venv/bin/python" -c "import sentence_transformers, torch" >&2
echo "$venv/bin/python"
