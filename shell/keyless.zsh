# keyless shell integration for zsh.
#
# Add this line to ~/.zshrc (after compinit, for completion):
#     eval "$(keyless shell-init zsh)"
#
# It gives:
#   - a prompt segment (`dev 42m`) in front of PROMPT while AWS_PROFILE, or
#     credentials from `keyless exec`/`keyless export`, are in the
#     environment (set KEYLESS_NO_PS1=1 before the line above to place
#     ${KEYLESS_PROMPT_SEGMENT} yourself, with prompt_subst; NO_COLOR or
#     KEYLESS_PROMPT_COLOR=0 for no colour);
#   - keyless-use PROFILE: switch AWS_PROFILE, with completion of the
#     profile names in the AWS config file (keyless-use -u: unset it);
#   - completion for keyless itself (when compinit has run).

typeset -g __keyless_bin=${__keyless_bin:-keyless}
typeset -g KEYLESS_PROMPT_SEGMENT=

# Runs before each prompt. The binary is run only when there is something
# to show; it reads at most the state and config files, never the network.
__keyless_precmd() {
    local -a color
    if [[ -n ${AWS_PROFILE-}${AWS_CREDENTIAL_EXPIRATION-} ]]; then
        [[ -z ${NO_COLOR-} && ${KEYLESS_PROMPT_COLOR:-1} != 0 ]] && color=(--color)
        KEYLESS_PROMPT_SEGMENT=$("$__keyless_bin" prompt --shell zsh $color 2>/dev/null)
    else
        KEYLESS_PROMPT_SEGMENT=
    fi
}

autoload -Uz add-zsh-hook
add-zsh-hook precmd __keyless_precmd

if [[ ${KEYLESS_NO_PS1-} != 1 && ${PROMPT-} != *KEYLESS_PROMPT_SEGMENT* ]]; then
    setopt prompt_subst
    PROMPT='${KEYLESS_PROMPT_SEGMENT:+$KEYLESS_PROMPT_SEGMENT }'"${PROMPT-}"
fi

# The profile names in the AWS config file.
__keyless_profiles() {
    local file=${AWS_CONFIG_FILE:-$HOME/.aws/config}
    [[ -r $file ]] || return 0
    sed -n \
        -e 's/^[[:space:]]*\[[[:space:]]*profile[[:space:]][[:space:]]*\([^]#;[:space:]]*\)[[:space:]]*\].*/\1/p' \
        -e 's/^[[:space:]]*\[[[:space:]]*\(default\)[[:space:]]*\].*/\1/p' \
        "$file" | sort -u
}

# keyless-use PROFILE: use this AWS profile from now on in this shell.
# Credentials left by `keyless export` are dropped, so the profile wins.
keyless-use() {
    local p
    case ${1-} in
    "")
        for p in ${(f)"$(__keyless_profiles)"}; do
            if [[ $p == "${AWS_PROFILE-}" ]]; then print -r -- "* $p"; else print -r -- "  $p"; fi
        done
        return 0
        ;;
    -u | --unset)
        unset AWS_PROFILE
        ;;
    -*)
        print -u2 'usage: keyless-use [PROFILE | -u]'
        return 2
        ;;
    *)
        if ! __keyless_profiles | grep -qxF -- "$1"; then
            print -u2 -r -- "keyless-use: no profile '$1' in ${AWS_CONFIG_FILE:-$HOME/.aws/config}; run keyless-use to list them"
            return 1
        fi
        export AWS_PROFILE=$1
        ;;
    esac
    if [[ -n ${KEYLESS_PROFILE-} ]]; then
        unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN \
            AWS_CREDENTIAL_EXPIRATION KEYLESS_PROFILE
    fi
}

if (( $+functions[compdef] )); then
    _keyless_use() {
        local -a profiles
        profiles=(${(f)"$(__keyless_profiles)"})
        compadd -a profiles
    }
    compdef _keyless_use keyless-use
    eval "$("$__keyless_bin" completions zsh 2>/dev/null)"
fi
