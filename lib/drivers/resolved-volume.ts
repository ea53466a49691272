/** Connection info checked and turned into host paths. */
export interface ResolvedVolume {
  /** The export after normalisation (what the mount command gets). */
  export: string;
  /** `<mountPointBase>/<md5 of export>`. */
  mountPath: string;
  /** `<mountPath>/<data.name>`. */
  devicePath: string;
}
