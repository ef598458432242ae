# olops: one static binary in an otherwise empty image. Nothing is pulled:
# FROM scratch builds with no registry. Build the binary first (make build,
# CGO_ENABLED=0), then: make image.
FROM scratch

ARG VERSION=dev
ARG REVISION=unknown
ARG CREATED=unknown
ARG SOURCE=https://github.com/olops/olops
# The binary's path in the build context: bin/olops for make image, the
# context root for goreleaser and olops deploy.
ARG BINARY=bin/olops

LABEL org.opencontainers.image.title="olops" \
      org.opencontainers.image.description="Online machine-learning model server" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="${SOURCE}"

# A passwd and group entry so the non-root user has a name and a home.
COPY build/passwd /etc/passwd
COPY build/group /etc/group
# /data must exist and belong to the user: a new named volume takes its
# owner from the image's directory.
COPY --chown=65532:65532 build/data/ /data/
COPY ${BINARY} /olops

USER 65532:65532
EXPOSE 8080 9090
VOLUME /data
ENTRYPOINT ["/olops", "serve"]
CMD ["--data-dir", "/data", "--public-addr", ":8080", "--management-addr", ":9090", "--no-context"]
