# keyless rollout script for Windows (PowerShell 5.1 or 7).
#
# A platform team sets the values below once and sends this script to
# developers. It finds keyless, runs `keyless onboard`, and prints the
# result. The environment overrides each value (KEYLESS_START_URL,
# KEYLESS_SSO_REGION, KEYLESS_DEFAULT_REGION, KEYLESS_PROFILE_TEMPLATE,
# KEYLESS_LOGIN).
#
# Usage: powershell -ExecutionPolicy Bypass -File onboard.ps1 [-DryRun] [-Yes]
#
# Exit codes (for fleet tooling):
#   0  onboarded (or, with -DryRun, nothing went wrong)
#   1  keyless ran and failed (its message says why)
#   2  this script is not configured, or was called wrongly
#   3  keyless is not installed
[CmdletBinding()]
param(
    [switch]$DryRun,
    [switch]$Yes
)
$ErrorActionPreference = 'Stop'

function Get-Setting([string]$Name, [string]$Default) {
    $value = [Environment]::GetEnvironmentVariable($Name)
    if ([string]::IsNullOrEmpty($value)) { return $Default }
    return $value
}

# ---- set these once for your organisation ---------------------------------
$StartUrl        = Get-Setting 'KEYLESS_START_URL' 'https://d-1234567890.awsapps.com/start'
$SsoRegion       = Get-Setting 'KEYLESS_SSO_REGION' 'us-east-1'
$DefaultRegion   = Get-Setting 'KEYLESS_DEFAULT_REGION' ''
$ProfileTemplate = Get-Setting 'KEYLESS_PROFILE_TEMPLATE' '{account_name}-{role_name}'
# 'pkce' signs in with the browser and records keyless_login = pkce.
$Login           = Get-Setting 'KEYLESS_LOGIN' ''
# ----------------------------------------------------------------------------

function Say([string]$Message) { [Console]::Error.WriteLine("onboard: $Message") }

if ($StartUrl -notmatch '^https?://') {
    Say 'StartUrl is not your AWS access portal URL: edit this script or set KEYLESS_START_URL'
    exit 2
}
if ([string]::IsNullOrEmpty($SsoRegion)) {
    Say 'SsoRegion is empty: edit this script or set KEYLESS_SSO_REGION'
    exit 2
}
if ($Login -notin @('', 'device', 'pkce')) {
    Say "Login must be pkce, device or empty, not '$Login'"
    exit 2
}

$keyless = Get-Command keyless -ErrorAction SilentlyContinue
if (-not $keyless) {
    Say 'keyless is not installed. Install it (winget install keyless, or scoop install keyless), then run this again.'
    exit 3
}

$arguments = @('onboard', '--start-url', $StartUrl, '--sso-region', $SsoRegion,
               '--profile-template', $ProfileTemplate)
if ($DefaultRegion) { $arguments += @('--default-region', $DefaultRegion) }
if ($Login -eq 'pkce') { $arguments += '--pkce' }
if ($DryRun) { $arguments += '--dry-run' }
if ($Yes) { $arguments += '--yes' }

Say "using $($keyless.Source)"
& $keyless.Source @arguments
$status = $LASTEXITCODE
if ($status -ne 0) {
    Say "keyless onboard failed (exit $status); its message above says what to do"
    if ($status -eq 2) { exit 2 }
    exit 1
}
if ($DryRun) {
    Say 'dry run finished: nothing on this machine was changed'
} else {
    Say 'done. Check what is left: keyless scan'
}
exit 0
