#requires -Version 7.0
<#
.SYNOPSIS
    Builds a module's external help from its PlatyPS v1 markdown: docs/Verb-Noun.md -> <assembly>.dll-Help.xml (MAML),
    docs/about_*.md -> about_*.help.txt.
.DESCRIPTION
    Imports the built module and checks the docs against it first, whichever generator runs: every exported cmdlet
    needs a page with a SYNOPSIS, a DESCRIPTION, at least one example with code, and a description for each of its
    parameters (common parameters excepted). Any gap fails the run (exit code 1) with one line per gap.

    With platyPS v1 installed, its New-ExternalHelp writes the help. Otherwise this script does, with the page's
    prose (synopsis, description, examples, parameter descriptions and default values, inputs, outputs, notes,
    links) and the facts from the imported command itself (syntax per parameter set, type, required, position,
    pipeline input, wildcards, aliases), so the syntax that Get-Help shows is always the command's real one.
    Run it in a child process (build.ps1 does): importing a binary module pins its assembly for the session.
.EXAMPLE
    pwsh -NoProfile -File tools/Convert-DocsToMaml.ps1 -DocsPath docs -ModulePath out/IpcPs -OutputPath out/IpcPs/en-US
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $DocsPath,     # folder of Verb-Noun.md pages and about_*.md topics
    [Parameter(Mandatory)] [string] $ModulePath,   # the built module's folder (holds one .psd1)
    [Parameter(Mandatory)] [string] $OutputPath    # where the help goes, e.g. out/IpcPs/en-US
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0

#region Reading PlatyPS v1 markdown

# A page: YAML front matter, '# Name', '## SECTION's, and '### Sub' titles inside sections (examples, parameters,
# input and output types). Headers inside fenced code are text. Returns @{ Front; Title; Sections } where each
# section is @{ Lines; Subs = [ordered]@{ title = lines } }, keyed by the upper-cased section title.
function Read-HelpPage([string] $Path) {
    $lines = (Get-Content -Raw -LiteralPath $Path) -split '\r?\n'
    $page = @{ Front = @{}; Title = $null; Sections = [ordered]@{} }
    $i = 0
    if ($lines[0] -eq '---') {
        for ($i = 1; $i -lt $lines.Count -and $lines[$i] -ne '---'; $i++) {
            if ($lines[$i] -match '^([^:]+):\s*(.*)$') { $page.Front[$Matches[1].Trim()] = $Matches[2].Trim() }
        }
        $i++
    }
    $fenced = $false; $target = $null; $section = $null
    for (; $i -lt $lines.Count; $i++) {
        $line = $lines[$i]
        if ($line -match '^\s*(```|~~~)') { $fenced = -not $fenced }
        elseif (-not $fenced -and $line -match '^(#{1,3})\s+(.*?)\s*$') {
            $level, $title = $Matches[1].Length, $Matches[2]
            if ($level -eq 1) { $page.Title = $title; $target = $null; continue }
            if ($level -eq 2) {
                $section = @{ Lines = [System.Collections.Generic.List[string]]::new(); Subs = [ordered]@{} }
                $page.Sections[$title.ToUpperInvariant()] = $section
                $target = $section.Lines
            } elseif ($null -ne $section) {
                $target = $section.Subs[$title] = [System.Collections.Generic.List[string]]::new()
            }
            continue
        }
        if ($null -ne $target) { $target.Add($line) }
    }
    $page
}

# Splits markdown lines into blocks: paragraphs (separated by blank lines) and fenced code, each as
# @{ Fence = language or $null for text; Lines }.
function Split-Block([string[]] $Lines) {
    $block = $null
    foreach ($line in $Lines) {
        if ($null -ne $block -and $null -ne $block.Fence) {
            if ($line -match '^\s*(```|~~~)\s*$') { $block; $block = $null } else { $block.Lines.Add($line) }
        } elseif ($line -match '^\s*(?:```|~~~)\s*(\S*)') {
            if ($null -ne $block) { $block }
            $block = @{ Fence = $Matches[1]; Lines = [System.Collections.Generic.List[string]]::new() }
        } elseif ($line.Trim() -eq '') {
            if ($null -ne $block) { $block }
            $block = $null
        } else {
            if ($null -eq $block) { $block = @{ Fence = $null; Lines = [System.Collections.Generic.List[string]]::new() } }
            $block.Lines.Add($line)
        }
    }
    if ($null -ne $block) { $block }
}

# Plain text from inline markdown: links become their text (and address, when it is a web one), emphasis and
# code marks go, backslash escapes are undone.
function ConvertFrom-Inline([string] $Text) {
    $Text = $Text -replace '\[([^\]]+)\]\(([^)\s]*)\)', { if ($_.Groups[2].Value -match '^https?:') { "$($_.Groups[1].Value) ($($_.Groups[2].Value))" } else { $_.Groups[1].Value } }
    $Text -replace '(\*\*|__)(.+?)\1', '$2' -replace '`([^`]+)`', '$1' -replace '\\([\\`*_{}\[\]()#+.!<>|-])', '$1'
}

# One paragraph's text: soft line breaks join, but list items and table rows keep a line each.
function Join-TextBlock([string[]] $Lines) {
    $out = [System.Collections.Generic.List[string]]::new()
    foreach ($l in $Lines) {
        $t = $l.Trim()
        if ($out.Count -eq 0 -or $t -match '^([-*+]|\d+[.)])\s|^\|') { $out.Add($t) } else { $out[$out.Count - 1] += ' ' + $t }
    }
    ConvertFrom-Inline ($out -join "`n")
}

# The paragraphs of some markdown: text blocks joined, code blocks verbatim.
function Get-Paragraph([string[]] $Lines) {
    foreach ($b in Split-Block $Lines) { if ($null -ne $b.Fence) { $b.Lines -join "`n" } else { Join-TextBlock $b.Lines } }
}

# Text that is really there: not empty, not a PlatyPS '{{ Fill ... }}' placeholder.
function Test-Text([string[]] $Lines) { ($Lines -join ' ') -replace '\{\{[^}]*\}\}' -match '\S' }

function Get-Section($Page, [string] $Name) { if ($Page.Sections.Contains($Name)) { $Page.Sections[$Name] } }

# '### Example 1: Title' subsections: @{ Title; Code (all fenced blocks); Remarks (the text, as paragraphs) }.
function Get-Example($Page) {
    $section = Get-Section $Page 'EXAMPLES'
    if (-not $section) { return }
    $n = 0
    foreach ($title in $section.Subs.Keys) {
        $n++
        $blocks = @(Split-Block $section.Subs[$title])
        @{
            Title   = $title -replace '^(?i:example)\s+\d+\s*[:.-]?\s*', ''
            Number  = $n
            Code    = (@($blocks | Where-Object { $null -ne $_.Fence } | ForEach-Object { $_.Lines -join "`n" }) -join "`n`n")
            Remarks = @($blocks | Where-Object { $null -eq $_.Fence } | ForEach-Object { Join-TextBlock $_.Lines })
        }
    }
}

# '### -Name' subsections: name -> @{ Description (its text, as paragraphs); HasText; Default (the yaml block's 'Default value') }.
function Get-ParameterDoc($Page) {
    $docs = [ordered]@{}
    $section = Get-Section $Page 'PARAMETERS'
    if (-not $section) { return $docs }
    foreach ($title in $section.Subs.Keys) {
        if ($title -notmatch '^-(\S+)$') { continue }   # e.g. '### CommonParameters'
        $name = $Matches[1]
        $blocks = @(Split-Block $section.Subs[$title])
        $text = @($blocks | Where-Object { $null -eq $_.Fence })
        $yaml = @($blocks | Where-Object { $_.Fence -eq 'yaml' } | ForEach-Object Lines)
        $default = ($yaml | Where-Object { $_ -match '^Default value:\s*(.*)$' } | ForEach-Object { $Matches[1].Trim() } | Select-Object -First 1)
        $docs[$name] = @{
            Description = @($text | ForEach-Object { Join-TextBlock $_.Lines })
            HasText     = [bool]($text | Where-Object { Test-Text $_.Lines })
            Default     = if ($default) { $default } else { 'None' }
        }
    }
    $docs
}

# '### TypeName' subsections of INPUTS or OUTPUTS: @{ Type; Description }.
function Get-TypeDoc($Page, [string] $Name) {
    $section = Get-Section $Page $Name
    if (-not $section) { return }
    if ($section.Subs.Count -eq 0 -and (Test-Text $section.Lines)) { return @{ Type = (Get-Paragraph $section.Lines)[0]; Description = @() } }
    foreach ($title in $section.Subs.Keys) { @{ Type = $title; Description = @(Get-Paragraph $section.Subs[$title]) } }
}

#endregion

#region Checking the pages against the module

$CommonParameters = [System.Management.Automation.Cmdlet]::CommonParameters   # -WhatIf and -Confirm need descriptions

# Gaps in one command's page, as messages.
function Test-HelpPage($Command, $Page, [string] $File) {
    if ($Page.Title -ne $Command.Name) { "${File}: the page's '# title' is '$($Page.Title)', not '$($Command.Name)'." }
    foreach ($name in 'SYNOPSIS', 'DESCRIPTION') {
        $s = Get-Section $Page $name
        if (-not $s -or -not (Test-Text $s.Lines)) { "${File}: ## $name is missing or empty." }
    }
    if (-not @(Get-Example $Page | Where-Object { $_.Code -match '\S' })) { "${File}: ## EXAMPLES needs at least one '### Example N: ...' with a code block." }
    $docs = Get-ParameterDoc $Page
    foreach ($p in $Command.Parameters.Values) {
        if ($CommonParameters.Contains($p.Name)) { continue }
        if (-not $docs.Contains($p.Name) -or -not $docs[$p.Name].HasText) { "${File}: parameter -$($p.Name) has no description (### -$($p.Name))." }
    }
    foreach ($name in $docs.Keys) {
        if (-not $Command.Parameters.ContainsKey($name)) { Write-Warning "${File}: documents -$name, which $($Command.Name) does not have." }
    }
}

#endregion

#region Writing MAML

$Ns = @{
    maml    = 'http://schemas.microsoft.com/maml/2004/10'
    command = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
    dev     = 'http://schemas.microsoft.com/maml/dev/2004/10'
}
$script:Xml = $null   # the XmlWriter: it escapes all text and attribute values

function Open([string] $Name, [System.Collections.IDictionary] $Attributes = @{}) {
    $prefix, $local = $Name -split ':'
    $script:Xml.WriteStartElement($prefix, $local, $Ns[$prefix])
    foreach ($k in $Attributes.Keys) { $script:Xml.WriteAttributeString($k, [string]$Attributes[$k]) }
}
function Close { $script:Xml.WriteEndElement() }
function Leaf([string] $Name, [string] $Text, [System.Collections.IDictionary] $Attributes = @{}) {
    Open $Name $Attributes
    $script:Xml.WriteString($Text -replace '[\x00-\x08\x0B\x0C\x0E-\x1F]')   # characters XML 1.0 cannot hold
    Close
}
function Para([string[]] $Paragraphs) { foreach ($p in $Paragraphs) { Leaf 'maml:para' $p } }
function Description([string[]] $Paragraphs) { Open 'maml:description'; Para $Paragraphs; Close }
function DevType([string] $Name) { Open 'dev:type'; Leaf 'maml:name' $Name; Leaf 'maml:uri' ''; Close }

function Get-TypeName([type] $Type, [switch] $Full) {
    $t = [Nullable]::GetUnderlyingType($Type) ?? $Type
    if ($Full) { $t.FullName } else { $t.Name }
}

# The facts of one parameter in one set (CommandParameterInfo), as MAML attributes.
function Get-ParameterFact($Info) {
    $how = @(if ($Info.ValueFromPipelineByPropertyName) { 'ByPropertyName' }; if ($Info.ValueFromPipeline) { 'ByValue' })
    [ordered]@{
        required       = "$($Info.IsMandatory)".ToLowerInvariant()
        variableLength = "$($Info.ParameterType.IsArray)".ToLowerInvariant()
        globbing       = "$([bool]@($Info.Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] }))".ToLowerInvariant()
        pipelineInput  = if ($how) { "True ($($how -join ', '))" } else { 'False' }
        position       = if ($Info.Position -ge 0) { "$($Info.Position)" } else { 'named' }
        aliases        = if ($Info.Aliases.Count) { $Info.Aliases -join ', ' } else { 'none' }
    }
}

# A parameter in every set it belongs to: facts that differ between sets read "true (SetA), false (SetB)".
function Merge-ParameterFact($Command, [string] $Name) {
    $perSet = [ordered]@{}
    foreach ($set in $Command.ParameterSets) {
        $info = $set.Parameters | Where-Object Name -EQ $Name
        if ($info) { $perSet[$set.Name] = @{ Info = $info; Facts = Get-ParameterFact $info } }
    }
    $first = @($perSet.Values)[0]
    $merged = [ordered]@{}
    foreach ($key in $first.Facts.Keys) {
        $values = @($perSet.Values | ForEach-Object { $_.Facts[$key] } | Select-Object -Unique)
        $merged[$key] = if ($values.Count -eq 1) { $values[0] } else { (@($perSet.Keys | ForEach-Object { "$($perSet[$_].Facts[$key]) ($_)" }) -join ', ') }
    }
    @{ Info = $first.Info; Facts = $merged }
}

function Write-Parameter($Info, [System.Collections.IDictionary] $Facts, $Doc, [switch] $InSyntax) {
    $isSwitch = $Info.ParameterType -eq [switch]
    Open 'command:parameter' $Facts
    Leaf 'maml:name' $Info.Name
    Description $Doc.Description
    if (-not ($InSyntax -and $isSwitch)) {   # a switch takes no value in a syntax line
        Leaf 'command:parameterValue' (Get-TypeName $Info.ParameterType) ([ordered]@{ required = "$(-not $isSwitch)".ToLowerInvariant(); variableLength = $Facts.variableLength })
    }
    DevType (Get-TypeName $Info.ParameterType -Full)
    Leaf 'dev:defaultValue' $Doc.Default
    Close
}

function Write-CommandHelp($Command, $Page) {
    $docs = Get-ParameterDoc $Page
    $own = @($Command.Parameters.Values | Where-Object { -not $CommonParameters.Contains($_.Name) } | ForEach-Object Name)
    Open 'command:command'
    foreach ($p in 'maml', 'command', 'dev') { $script:Xml.WriteAttributeString('xmlns', $p, $null, $Ns[$p]) }

    Open 'command:details'
    Leaf 'command:name' $Command.Name
    Leaf 'command:verb' $Command.Verb
    Leaf 'command:noun' $Command.Noun
    Description (Get-Paragraph (Get-Section $Page 'SYNOPSIS').Lines)
    Close
    Description (Get-Paragraph (Get-Section $Page 'DESCRIPTION').Lines)

    # Syntax: one item per parameter set, straight from the command; positional parameters first, by position.
    Open 'command:syntax'
    foreach ($set in $Command.ParameterSets) {
        Open 'command:syntaxItem'
        Leaf 'maml:name' $Command.Name
        $params = @($set.Parameters | Where-Object { $own -contains $_.Name })
        $ordered = @($params | Where-Object Position -GE 0 | Sort-Object Position) + @($params | Where-Object Position -LT 0)
        foreach ($p in $ordered) { Write-Parameter $p (Get-ParameterFact $p) $docs[$p.Name] -InSyntax }
        Close
    }
    Close

    # Parameters: in the page's order, then any the page does not list (none, once the checks have passed).
    Open 'command:parameters'
    foreach ($name in @($docs.Keys | Where-Object { $own -contains $_ }) + @($own | Where-Object { -not $docs.Contains($_) })) {
        $p = Merge-ParameterFact $Command $name
        Write-Parameter $p.Info $p.Facts $docs[$name]
    }
    Close

    foreach ($kind in @{ Section = 'INPUTS'; List = 'command:inputTypes'; Item = 'command:inputType' },
                      @{ Section = 'OUTPUTS'; List = 'command:returnValues'; Item = 'command:returnValue' }) {
        Open $kind.List
        foreach ($t in Get-TypeDoc $Page $kind.Section) { Open $kind.Item; DevType $t.Type; Description $t.Description; Close }
        Close
    }

    $notes = Get-Section $Page 'NOTES'
    if ($notes -and (Test-Text $notes.Lines)) { Open 'maml:alertSet'; Open 'maml:alert'; Para (Get-Paragraph $notes.Lines); Close; Close }

    Open 'command:examples'
    foreach ($e in Get-Example $Page) {
        Open 'command:example'
        Leaf 'maml:title' "---------- Example $($e.Number): $($e.Title) ----------"
        Leaf 'dev:code' $e.Code
        Open 'dev:remarks'; Para ($e.Remarks + ''); Close   # the empty paragraph spaces the examples apart
        Close
    }
    Close

    # Related links: the front matter's online version first (Get-Help -Online uses it), then the page's links.
    Open 'command:relatedLinks'
    $online = $Page.Front['online version']
    if ($online) { Open 'maml:navigationLink'; Leaf 'maml:linkText' 'Online Version:'; Leaf 'maml:uri' $online; Close }
    $links = Get-Section $Page 'RELATED LINKS'
    if ($links) {
        foreach ($m in [regex]::Matches(($links.Lines -join "`n"), '\[([^\]]+)\]\(([^)\s]*)\)')) {
            $uri = if ($m.Groups[2].Value -match '^https?:') { $m.Groups[2].Value } else { '' }   # local .md links: text only
            Open 'maml:navigationLink'; Leaf 'maml:linkText' $m.Groups[1].Value; Leaf 'maml:uri' $uri; Close
        }
    }
    Close
    Close
}

#endregion

#region About topics

# Wraps TEXT at 80 columns with INDENT; a list item's continuation lines hang under its text.
function Format-Wrapped([string] $Text, [int] $Indent) {
    foreach ($line in $Text -split "`n") {
        $hang = if ($line -match '^([-*+]|\d+[.)])\s') { $Matches[0].Length } else { 0 }
        $pad = ' ' * $Indent; $current = $pad
        foreach ($word in $line -split ' ' | Where-Object { $_ }) {
            if ($current.Trim() -and $current.Length + 1 + $word.Length -gt 80) { $current.TrimEnd(); $current = ' ' * ($Indent + $hang) }
            $current += $(if ($current.Trim()) { ' ' } else { '' }) + $word
        }
        $current.TrimEnd()
    }
}

# about_X.md -> the plain text of about_X.help.txt: 'TOPIC' and '## TITLES' at the margin (upper case), '### Titles'
# indented 2, text indented 4 and wrapped, code indented 8 as it is.
function ConvertTo-AboutText([string] $Path) {
    $page = Read-HelpPage $Path
    $out = [System.Collections.Generic.List[string]]::new()
    $out.Add('TOPIC'); $out.Add("    $($page.Title)"); $out.Add('')
    $emit = {
        param([string[]] $Lines)
        foreach ($b in Split-Block $Lines) {
            if ($null -ne $b.Fence) { $b.Lines | ForEach-Object { ("        $_").TrimEnd() } | ForEach-Object { $out.Add($_) } }
            else { Format-Wrapped (Join-TextBlock $b.Lines) 4 | ForEach-Object { $out.Add($_) } }
            $out.Add('')
        }
    }
    foreach ($title in $page.Sections.Keys) {
        $out.Add($title); & $emit $page.Sections[$title].Lines
        foreach ($sub in $page.Sections[$title].Subs.Keys) { $out.Add("  $sub"); $out.Add(''); & $emit $page.Sections[$title].Subs[$sub] }
    }
    ($out -join [Environment]::NewLine).TrimEnd() + [Environment]::NewLine
}

#endregion

# --- Main ---------------------------------------------------------------------------------------------------------

$manifest = @(Get-ChildItem -LiteralPath $ModulePath -Filter *.psd1)
if ($manifest.Count -ne 1) { throw "Expected one module manifest in '$ModulePath', found $($manifest.Count)." }
$module = Import-Module $manifest[0].FullName -PassThru -Force
$commands = @($module.ExportedCmdlets.Values | Sort-Object Name)

$problems = [System.Collections.Generic.List[string]]::new()
$pages = @{}
foreach ($c in $commands) {
    $file = Join-Path $DocsPath "$($c.Name).md"
    if (-not (Test-Path -LiteralPath $file)) { $problems.Add("$($c.Name) is exported but has no help page ($file)."); continue }
    $pages[$c.Name] = Read-HelpPage $file
    Test-HelpPage $c $pages[$c.Name] (Split-Path $file -Leaf) | ForEach-Object { $problems.Add($_) }
}
Get-ChildItem -LiteralPath $DocsPath -Filter '*-*.md' | Where-Object { -not $pages.ContainsKey($_.BaseName) } |
    ForEach-Object { Write-Warning "$($_.Name): no exported command $($_.BaseName); the page is left out." }
if ($problems.Count) {
    $problems | ForEach-Object { [Console]::Error.WriteLine("Convert-DocsToMaml: $_") }
    [Console]::Error.WriteLine("Convert-DocsToMaml: $($problems.Count) problem(s) in the help pages; no help was written.")
    exit 1
}

$OutputPath = (New-Item -ItemType Directory -Force $OutputPath).FullName   # .NET writers need a full path
$abouts = @(Get-ChildItem -LiteralPath $DocsPath -Filter 'about_*.md')

if (Get-Module -ListAvailable platyPS | Where-Object { $_.Version.Major -lt 2 }) {
    Import-Module platyPS -MaximumVersion 1.99
    $files = @($commands | ForEach-Object { Join-Path $DocsPath "$($_.Name).md" }) + @($abouts | ForEach-Object FullName)
    New-ExternalHelp -Path $files -OutputPath $OutputPath -Force | ForEach-Object { Write-Host "Help: $($_.FullName) (platyPS)" }
    exit 0
}

# One MAML file per implementing assembly (for a binary module, <assembly>.dll-Help.xml, where Get-Help looks).
foreach ($group in $commands | Group-Object { [IO.Path]::GetFileName($_.DLL) + '-Help.xml' }) {
    $path = Join-Path $OutputPath $group.Name
    $settings = [Xml.XmlWriterSettings]@{ Indent = $true; Encoding = [Text.UTF8Encoding]::new($false) }
    $script:Xml = [Xml.XmlWriter]::Create($path, $settings)
    try {
        $script:Xml.WriteStartDocument()
        $script:Xml.WriteStartElement('helpItems', 'http://msh')
        $script:Xml.WriteAttributeString('schema', 'maml')
        foreach ($c in $group.Group) { Write-CommandHelp $c $pages[$c.Name] }
        $script:Xml.WriteEndElement()
        $script:Xml.WriteEndDocument()
    } finally { $script:Xml.Dispose() }
    $null = [xml](Get-Content -Raw -LiteralPath $path)   # re-read: proves the file is well-formed
    Write-Host "Help: $path ($($group.Count) commands)"
}
foreach ($a in $abouts) {
    $path = Join-Path $OutputPath "$($a.BaseName).help.txt"
    Set-Content -LiteralPath $path -Value (ConvertTo-AboutText $a.FullName) -NoNewline -Encoding utf8NoBOM
    Write-Host "Help: $path"
}
