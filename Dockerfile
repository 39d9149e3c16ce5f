# The gait-regress GitHub Action image: a static gait binary on an empty
# base with no shell, run as a non-root user. action.yml runs it as
# `gait action regress`.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/gait ./cmd/gait

FROM scratch
# CA roots for the GitHub API (PR comments); nothing else from the builder.
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/gait /gait
# The runner mounts the workspace and its command files owned by its own
# user, uid 1001 on GitHub-hosted runners; running as that uid (not root)
# lets the action write gait-out/, $GITHUB_OUTPUT and $GITHUB_STEP_SUMMARY.
# Self-hosted runners with another uid can rebuild with --build-arg UID=….
ARG UID=1001
USER ${UID}:${UID}
ENTRYPOINT ["/gait"]
