#!/usr/bin/env bash
# Measures the compile cost of #[derive(HasField)]: the build time of a generated crate
# with STRUCTS derived structs of FIELDS fields (two marked each) against the same crate
# with the impls written by hand, and the build time of has-field-derive itself.
#
# Usage: scripts/derive-compile-cost.sh   (RUNS, STRUCTS, FIELDS override the defaults)
#
# The crates are generated in a temporary directory outside the repository and use path
# dependencies on this workspace. Every build is a dev build with CARGO_INCREMENTAL=0,
# timed with `date +%s.%N`, so each number includes cargo's own start-up, which the first
# row measures. Run it on an otherwise idle machine, because other builds skew the numbers.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
runs="${RUNS:-3}"
structs="${STRUCTS:-200}"
fields="${FIELDS:-20}"

work="$(mktemp -d "${TMPDIR:-/tmp}/derive-compile-cost.XXXXXX")"
trap 'rm -rf "$work"' EXIT
export CARGO_TARGET_DIR="$work/target"
export CARGO_INCREMENTAL=0

# Writes the link type shared by both crates.
write_prelude() {
    cat <<'RUST'
#![allow(dead_code)]

use has_field::{Field, HasField};

pub struct Link<const LIST: usize> {
    pub next: *mut Link<LIST>,
}

impl<T: ?Sized, const LIST: usize> Field<T> for Link<LIST> {}
RUST
}

# Writes struct number $1 with $fields fields, the marked two being Link<0> and Link<1>.
write_struct() {
    local index="$1" derive="$2"
    echo
    if [[ "$derive" == yes ]]; then
        echo "#[derive(HasField)]"
    fi
    echo "pub struct S$index {"
    for ((field = 0; field < fields - 2; field++)); do
        echo "    pub f$field: u64,"
    done
    if [[ "$derive" == yes ]]; then
        echo "    #[field]"
    fi
    echo "    pub a: Link<0>,"
    if [[ "$derive" == yes ]]; then
        echo "    #[field]"
    fi
    echo "    pub b: Link<1>,"
    echo "}"
}

# Writes by hand the impl that the derive emits for field $2 of struct $1, without the
# packed-layout guard, which hand-written code would not have.
write_manual_impl() {
    local index="$1" member="$2" list="$3"
    cat <<RUST

// SAFETY: both functions use field \`$member\`, derive pointers without integer round trips,
// and the struct is not packed.
unsafe impl HasField<S$index, Link<$list>> for S$index {
    #[inline]
    unsafe fn raw_get_field(ptr: *mut Self) -> *mut Link<$list> {
        // SAFETY: the caller guarantees that \`ptr\` points to a valid \`Self\`.
        unsafe { &raw mut (*ptr).$member }
    }

    #[inline]
    unsafe fn field_container_of(ptr: *mut Link<$list>) -> *mut Self {
        // SAFETY: the caller guarantees that \`ptr\` points to this field of a \`Self\`.
        unsafe { ptr.byte_sub(core::mem::offset_of!(Self, $member)).cast::<Self>() }
    }
}
RUST
}

# Generates crate $1; $2 is "yes" for derived impls and "no" for hand-written ones.
generate_crate() {
    local name="$1" derive="$2" features
    mkdir -p "$work/$name/src"
    if [[ "$derive" == yes ]]; then features='features = ["derive"]'; else features='default-features = false'; fi
    cat > "$work/$name/Cargo.toml" <<TOML
[package]
name = "$name"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
has-field = { path = "$repo/has-field", $features }
TOML
    {
        write_prelude
        for ((index = 0; index < structs; index++)); do
            write_struct "$index" "$derive"
            if [[ "$derive" != yes ]]; then
                write_manual_impl "$index" a 0
                write_manual_impl "$index" b 1
            fi
        done
    } > "$work/$name/src/lib.rs"
}

cat > "$work/Cargo.toml" <<'TOML'
[workspace]
resolver = "3"
members = ["derived", "handwritten"]
TOML
cp "$repo/Cargo.lock" "$work/Cargo.lock"
generate_crate derived yes
generate_crate handwritten no

# Prints the seconds that the command in "$@" takes.
seconds() {
    local start end
    start="$(date +%s.%N)"
    if ! "$@" > /dev/null 2>&1; then
        echo "failed: $* (run it in $work to see why)" >&2
        exit 1
    fi
    end="$(date +%s.%N)"
    awk -v start="$start" -v end="$end" 'BEGIN { printf "%.2f", end - start }'
}

# Runs "$@" $runs times after running the preparation command $1, and prints a table row.
measure() {
    local label="$1" prepare="$2"
    shift 2
    local times=()
    for ((run = 0; run < runs; run++)); do
        eval "$prepare"
        times+=("$(seconds "$@")")
    done
    printf '%s\n' "${times[@]}" | awk -v label="$label" '
        { sum += $1; if (NR == 1 || $1 < min) min = $1; if ($1 > max) max = $1 }
        END { printf "| %-48s | %6.2f | %6.2f | %6.2f |\n", label, sum / NR, min, max }'
}

cd "$work"
echo "Warming up: building the dependencies once." >&2
cargo build --offline --quiet -p derived -p handwritten

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "rustc: $(rustc --version)"
echo "generated: $structs structs of $fields fields, 2 marked each; $runs runs per row"
echo
echo "| build                                            | mean s |  min s |  max s |"
echo "|--------------------------------------------------|-------:|-------:|-------:|"
measure "cargo with nothing to rebuild (overhead)" \
    ":" \
    cargo build --offline -p derived -p handwritten
measure "derived crate (derive already built)" \
    "cargo clean --offline --quiet -p derived" \
    cargo build --offline -p derived
measure "hand-written crate" \
    "cargo clean --offline --quiet -p handwritten" \
    cargo build --offline -p handwritten
measure "has-field-derive alone (syn etc. built)" \
    "cargo clean --offline --quiet -p has-field-derive" \
    cargo build --offline -p has-field-derive
measure "has-field-derive with syn, quote, proc-macro2" \
    "cargo clean --offline --quiet" \
    cargo build --offline -p has-field-derive
measure "derived crate from clean, with the derive's deps" \
    "cargo clean --offline --quiet" \
    cargo build --offline -p derived
