# The API, worker and beat share this image; docker-compose picks the command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
RUN useradd --create-home --uid 10001 moderation

COPY pyproject.toml README.md ./
COPY moderation ./moderation
COPY workers ./workers
COPY models ./models
RUN pip install -e .

USER moderation
ENV MODERATION_DATA_DIR=/home/moderation/var
EXPOSE 8000
CMD ["moderation", "serve", "--port", "8000"]
