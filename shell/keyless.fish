# keyless shell integration for fish.
#
# Add this line to ~/.config/fish/config.fish:
#     keyless shell-init fish | source
#
# It gives:
#   - a prompt segment (`dev 42m`) in front of fish_prompt while AWS_PROFILE,
#     or credentials from `keyless exec`/`keyless export`, are in the
#     environment (set KEYLESS_NO_PS1 1 before the line above to call
#     __keyless_segment in your own prompt; NO_COLOR or
#     KEYLESS_PROMPT_COLOR=0 for no colour);
#   - keyless-use PROFILE: switch AWS_PROFILE, with completion of the
#     profile names in the AWS config file (keyless-use -u: unset it);
#   - completion for keyless itself.

set -q __keyless_bin; or set -g __keyless_bin keyless

# The segment. The binary is run only when there is something to show; it
# reads at most the state and config files, never the network.
function __keyless_segment
    if set -q AWS_PROFILE; or set -q AWS_CREDENTIAL_EXPIRATION
        set -l color
        if not set -q NO_COLOR; and test "$KEYLESS_PROMPT_COLOR" != 0
            set color --color
        end
        $__keyless_bin prompt $color 2>/dev/null
    end
end

function __keyless_status
    return $argv[1]
end

if test "$KEYLESS_NO_PS1" != 1; and functions -q fish_prompt; and not functions -q __keyless_original_fish_prompt
    functions --copy fish_prompt __keyless_original_fish_prompt
    function fish_prompt
        set -l last $status
        set -l segment (__keyless_segment)
        if test -n "$segment"
            printf '%s ' $segment
        end
        __keyless_status $last
        __keyless_original_fish_prompt
    end
end

# The profile names in the AWS config file.
function __keyless_profiles
    set -l file ~/.aws/config
    set -q AWS_CONFIG_FILE; and set file $AWS_CONFIG_FILE
    test -r "$file"; or return 0
    begin
        string replace -rf '^\s*\[\s*profile\s+([^\]#;\s]+)\s*\].*' '$1' <$file
        string match -rq '^\s*\[\s*default\s*\]' <$file; and echo default
    end | sort -u
end

# keyless-use PROFILE: use this AWS profile from now on in this shell.
# Credentials left by `keyless export` are dropped, so the profile wins.
function keyless-use --description 'Switch the AWS profile (AWS_PROFILE)'
    switch "$argv[1]"
        case ''
            for p in (__keyless_profiles)
                if test "$p" = "$AWS_PROFILE"
                    echo "* $p"
                else
                    echo "  $p"
                end
            end
            return 0
        case -u --unset
            set -e AWS_PROFILE
        case '-*'
            echo 'usage: keyless-use [PROFILE | -u]' >&2
            return 2
        case '*'
            if not contains -- $argv[1] (__keyless_profiles)
                set -l file ~/.aws/config
                set -q AWS_CONFIG_FILE; and set file $AWS_CONFIG_FILE
                echo "keyless-use: no profile '$argv[1]' in $file; run keyless-use to list them" >&2
                return 1
            end
            set -gx AWS_PROFILE $argv[1]
    end
    if set -q KEYLESS_PROFILE
        set -e AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_CREDENTIAL_EXPIRATION KEYLESS_PROFILE
    end
end

complete -c keyless-use -f -a '(__keyless_profiles)'

$__keyless_bin completions fish 2>/dev/null | source
