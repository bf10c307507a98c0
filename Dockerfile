# LearnLoop: one image for the web process, the worker and migrations.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PORT=3000
WORKDIR /app

# Dependencies first so code changes don't reinstall them.
COPY pyproject.toml README.md ./
COPY bot/__init__.py bot/__init__.py
RUN pip install --upgrade pip && pip install . && pip uninstall -y learnloop

COPY bot bot
COPY handlers handlers
COPY storage storage
COPY manifest.yml Procfile ./
RUN pip install --no-deps . && useradd --create-home --uid 10001 learnloop
USER learnloop

EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import os,urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\",\"3000\")}/healthz')"
CMD ["learnloop", "serve"]
