// Ready-to-paste code for calling a model with an API token. The token value is
// never retrievable after creation, so the snippets read it from $CINFER_TOKEN.
export function curlSnippet(origin: string, modelId: string): string {
  return [
    'curl -H "Authorization: Bearer $CINFER_TOKEN" \\',
    "  -H 'Content-Type: image/jpeg' \\",
    '  --data-binary @image.jpg \\',
    `  ${origin}/api/v1/models/${encodeURIComponent(modelId)}/infer`,
  ].join('\n');
}

export function pythonSnippet(origin: string, modelId: string): string {
  return [
    'import os',
    'import requests',
    '',
    `url = "${origin}/api/v1/models/${encodeURIComponent(modelId)}/infer"`,
    'headers = {',
    '    "Authorization": "Bearer " + os.environ["CINFER_TOKEN"],',
    '    "Content-Type": "image/jpeg",',
    '}',
    'with open("image.jpg", "rb") as f:',
    '    r = requests.post(url, headers=headers, data=f.read(), timeout=30)',
    'r.raise_for_status()',
    'print(r.json())',
  ].join('\n');
}
