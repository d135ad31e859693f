// Uploads (POST /media, multipart) through the SDK: the file goes as form data, the SDK types say `file`.
import type { Schemas } from "../sdk";
import { api } from "./client";
import { must } from "./errors";

export function uploadMedia(file: File): Promise<Schemas["MediaOut"]> {
  return must(
    api().POST("/media", {
      body: { file: "" },
      bodySerializer: () => {
        const form = new FormData();
        form.append("file", file, file.name);
        return form;
      },
    }),
  );
}
