# Kanda in a container: docker build -t kanda . && docker run -p 8080:8080 -v kanda-data:/data kanda
# The flows, texts and migrations are built into the binary; the SQLite
# database lives in the /data volume. Settings are KANDA_* variables (-e).

FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p kanda \
    && install -m 0755 target/release/kanda /usr/local/bin/kanda

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin kanda \
    && mkdir /data && chown kanda:kanda /data && chmod 0700 /data
COPY --from=build /usr/local/bin/kanda /usr/local/bin/kanda
USER kanda
WORKDIR /data
VOLUME /data
ENV DATABASE_URL=sqlite:///data/kanda.db \
    KANDA_LOG_FORMAT=json
EXPOSE 8080
ENTRYPOINT ["kanda"]
CMD ["serve", "--bind", "0.0.0.0:8080"]
