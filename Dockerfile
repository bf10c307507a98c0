# LearnLoop: one image for the web process, the worker and migrations.
FROM python:3.11-slim

# The default database is a SQLite file in /data, the one directory the app's user may write.
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PORT=3000 \
    WORKER_METRICS_PORT=3001 DATABASE_URL=sqlite:////data/learnloop.db
WORKDIR /app

# Dependencies first so code changes don't reinstall them: the versions the suite passed with.
COPY pyproject.toml README.md LICENSE constraints.txt ./
COPY bot/__init__.py bot/__init__.py
RUN pip install --upgrade pip && pip install -c constraints.txt . && pip uninstall -y learnloop

COPY bot bot
COPY handlers handlers
COPY storage storage
COPY manifest.yml Procfile ./
RUN pip install --no-deps . \
    && useradd --create-home --uid 10001 learnloop \
    && mkdir -p /data && chown learnloop:learnloop /data
USER learnloop
VOLUME ["/data"]

# 3000: the web process ($PORT); 3001: the worker's /metrics and /healthz ($WORKER_METRICS_PORT).
EXPOSE 3000 3001
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import os,urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\",\"3000\")}/healthz', timeout=4)"
CMD ["learnloop", "serve"]
