import type { DescField, DescMessage, DescMethod, DescService } from "@bufbuild/protobuf";
import { getComments } from "@bufbuild/protoplugin";

/**
 * protoComment returns an element's leading comment from its file's source info, as one
 * paragraph per blank-line-separated block, or undefined when it has none. Comments that
 * start with `---` are section dividers in the proto, not descriptions.
 */
export function protoComment(
  desc: DescMethod | DescMessage | DescField | DescService,
): string | undefined {
  const text = getComments(desc).leading;
  if (text === undefined) return undefined;
  const paragraphs = text
    .split(/\n\s*\n/)
    .map((p) =>
      p
        .split("\n")
        .map((line) => line.trim())
        .join(" ")
        .trim(),
    )
    .filter((p) => p !== "" && !p.startsWith("---"));
  return paragraphs.length === 0 ? undefined : paragraphs.join("\n\n");
}
