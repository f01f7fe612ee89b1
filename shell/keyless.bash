# keyless shell integration for bash.
#
# Add this line to ~/.bashrc:
#     eval "$(keyless shell-init bash)"
#
# It gives:
#   - a prompt segment (`dev 42m`) in front of PS1 while AWS_PROFILE, or
#     credentials from `keyless exec`/`keyless export`, are in the
#     environment (set KEYLESS_NO_PS1=1 before the line above to place
#     $KEYLESS_PROMPT_SEGMENT yourself; NO_COLOR or KEYLESS_PROMPT_COLOR=0
#     for no colour);
#   - keyless-use PROFILE: switch AWS_PROFILE, with completion of the
#     profile names in the AWS config file (keyless-use -u: unset it);
#   - completion for keyless itself.

__keyless_bin=${__keyless_bin:-keyless}
KEYLESS_PROMPT_SEGMENT=

# Runs before each prompt. The binary is run only when there is something
# to show; it reads at most the state and config files, never the network.
__keyless_prompt_hook() {
    local last=$? color=
    if [[ -n ${AWS_PROFILE-}${AWS_CREDENTIAL_EXPIRATION-} ]]; then
        [[ -z ${NO_COLOR-} && ${KEYLESS_PROMPT_COLOR:-1} != 0 ]] && color=--color
        KEYLESS_PROMPT_SEGMENT=$("$__keyless_bin" prompt --shell bash $color 2>/dev/null)
    else
        KEYLESS_PROMPT_SEGMENT=
    fi
    return "$last"
}

if [[ "$(declare -p PROMPT_COMMAND 2>/dev/null)" == "declare -a"* ]]; then
    if [[ " ${PROMPT_COMMAND[*]} " != *" __keyless_prompt_hook "* ]]; then
        PROMPT_COMMAND=(__keyless_prompt_hook "${PROMPT_COMMAND[@]}")
    fi
elif [[ ${PROMPT_COMMAND-} != *__keyless_prompt_hook* ]]; then
    PROMPT_COMMAND="__keyless_prompt_hook${PROMPT_COMMAND:+;$PROMPT_COMMAND}"
fi

if [[ ${KEYLESS_NO_PS1-} != 1 && ${PS1-} != *KEYLESS_PROMPT_SEGMENT* ]]; then
    PS1='${KEYLESS_PROMPT_SEGMENT:+$KEYLESS_PROMPT_SEGMENT }'"${PS1-}"
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
    case ${1-} in
    "")
        local p
        while IFS= read -r p; do
            if [[ $p == "${AWS_PROFILE-}" ]]; then printf '* %s\n' "$p"; else printf '  %s\n' "$p"; fi
        done < <(__keyless_profiles)
        return 0
        ;;
    -u | --unset)
        unset AWS_PROFILE
        ;;
    -*)
        printf 'usage: keyless-use [PROFILE | -u]\n' >&2
        return 2
        ;;
    *)
        if ! __keyless_profiles | grep -qxF -- "$1"; then
            printf "keyless-use: no profile '%s' in %s; run keyless-use to list them\n" \
                "$1" "${AWS_CONFIG_FILE:-$HOME/.aws/config}" >&2
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

__keyless_use_complete() {
    local IFS=$'\n'
    COMPREPLY=($(compgen -W "$(__keyless_profiles)" -- "${COMP_WORDS[COMP_CWORD]}"))
}
complete -F __keyless_use_complete keyless-use

eval "$("$__keyless_bin" completions bash 2>/dev/null)"
