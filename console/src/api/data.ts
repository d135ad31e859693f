// Reads more than one page needs.
import type { Instance } from "../sdk";
import { useResource } from "../ui/resource";
import { api } from "./client";
import { must } from "./errors";

export function listInstances(): Promise<Instance[]> {
  return must(api().GET("/instances")).then((list) => list.data);
}

export function useInstances() {
  return useResource(listInstances, []);
}

export function instanceLabel(instance: Instance): string {
  return instance.phone ? `${instance.name} (${instance.phone})` : instance.name;
}
