# Shared by the scripts (source it): helpers that fail loudly.

# checked_build [swift build arguments…]: a build; on failure prints the compiler's errors and
# stops the calling script (nothing is swallowed). The full log: .data/logs/build.log.
checked_build() {
    mkdir -p .data/logs
    if ! swift build "$@" >.data/logs/build.log 2>&1; then
        grep -E "error:" .data/logs/build.log | head -20 >&2 || tail -30 .data/logs/build.log >&2
        echo "build failed (swift build $*); full log: .data/logs/build.log" >&2
        exit 1
    fi
    grep -E "Build (of product .* )?complete" .data/logs/build.log | tail -1
}

# release_build [swift build arguments…]: checked_build -c release.
release_build() { checked_build -c release "$@"; }
