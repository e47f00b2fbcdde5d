FROM debian:bookworm-slim

LABEL org.opencontainers.image.title="tools" \
      org.opencontainers.image.source="https://example.com/tools"

# Install build tools in one layer; comments between continuation lines are dropped.
RUN set -eux; \
    apt-get update; \
# curl is needed for the installer below
    apt-get install -y --no-install-recommends \
        ca-certificates \
        curl \
        git \
	# tabs before comments are fine too
        make; \
    rm -rf /var/lib/apt/lists/*

RUN <<EOF
set -e
echo "built at $(date)" > /etc/build-info
EOF

COPY <<-'CONF' /etc/app.conf
	listen = 0.0.0.0:80
	root = $HOME
	CONF

ENTRYPOINT exec /usr/bin/app --config /etc/app.conf
