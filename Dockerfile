# The convsolve REST API (api.main:app) served by uvicorn on port 8000.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
# .dockerignore keeps tests, docs, examples and local venvs out of the context.
COPY . .
RUN pip install . \
    && useradd --system --no-create-home --uid 10001 convsolve

USER convsolve
EXPOSE 8000
CMD ["uvicorn", "api.main:app", "--host", "0.0.0.0", "--port", "8000"]
