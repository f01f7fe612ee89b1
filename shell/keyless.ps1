# keyless shell integration for PowerShell.
#
# Add this line to your $PROFILE:
#     Invoke-Expression (& keyless shell-init powershell | Out-String)
#
# It gives:
#   - a prompt segment (`dev 42m`) in front of your prompt while AWS_PROFILE,
#     or credentials from `keyless exec`/`keyless export`, are in the
#     environment ($env:NO_COLOR or $env:KEYLESS_PROMPT_COLOR = '0' for no
#     colour; $env:KEYLESS_NO_PS1 = '1' to leave the prompt alone and call
#     Get-KeylessSegment yourself);
#   - keyless-use PROFILE: switch AWS_PROFILE, with completion of the
#     profile names in the AWS config file (keyless-use -Unset: unset it);
#   - completion for keyless itself.

if (-not $global:__keyless_bin) { $global:__keyless_bin = 'keyless' }

# The segment. The binary is run only when there is something to show; it
# reads at most the state and config files, never the network.
function global:Get-KeylessSegment {
    if (-not ($env:AWS_PROFILE -or $env:AWS_CREDENTIAL_EXPIRATION)) { return '' }
    $arguments = @('prompt')
    if (-not $env:NO_COLOR -and $env:KEYLESS_PROMPT_COLOR -ne '0') { $arguments += '--color' }
    try {
        (& $global:__keyless_bin @arguments 2>$null) -join ''
    } catch {
        ''
    }
}

if ($env:KEYLESS_NO_PS1 -ne '1' -and -not $global:__keyless_original_prompt) {
    $global:__keyless_original_prompt = $function:prompt
    function global:prompt {
        $segment = Get-KeylessSegment
        $rest = & $global:__keyless_original_prompt
        if ($segment) { "$segment $rest" } else { $rest }
    }
}

# The profile names in the AWS config file.
function global:Get-KeylessProfiles {
    $file = if ($env:AWS_CONFIG_FILE) { $env:AWS_CONFIG_FILE } else { Join-Path $HOME '.aws/config' }
    if (-not (Test-Path -LiteralPath $file)) { return }
    $names = foreach ($line in Get-Content -LiteralPath $file) {
        if ($line -match '^\s*\[\s*profile\s+([^\]#;\s]+)\s*\]') { $Matches[1] }
        elseif ($line -match '^\s*\[\s*default\s*\]') { 'default' }
    }
    $names | Sort-Object -Unique
}

# keyless-use PROFILE: use this AWS profile from now on in this session.
# Credentials left by `keyless export` are dropped, so the profile wins.
function global:keyless-use {
    param([string]$ProfileName, [switch]$Unset)
    if ($Unset) {
        Remove-Item -ErrorAction SilentlyContinue Env:AWS_PROFILE
    } elseif (-not $ProfileName) {
        foreach ($p in Get-KeylessProfiles) {
            if ($p -eq $env:AWS_PROFILE) { "* $p" } else { "  $p" }
        }
        return
    } else {
        if (-not (Get-KeylessProfiles | Where-Object { $_ -eq $ProfileName })) {
            Write-Error "keyless-use: no profile '$ProfileName' in the AWS config file; run keyless-use to list them"
            return
        }
        $env:AWS_PROFILE = $ProfileName
    }
    if ($env:KEYLESS_PROFILE) {
        foreach ($name in 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_CREDENTIAL_EXPIRATION', 'KEYLESS_PROFILE') {
            Remove-Item -ErrorAction SilentlyContinue "Env:$name"
        }
    }
}

Register-ArgumentCompleter -CommandName keyless-use -ParameterName ProfileName -ScriptBlock {
    param($commandName, $parameterName, $wordToComplete, $commandAst, $fakeBoundParameters)
    Get-KeylessProfiles | Where-Object { $_ -like "$wordToComplete*" } | ForEach-Object {
        [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_)
    }
}

& $global:__keyless_bin completions powershell 2>$null | Out-String | Invoke-Expression
