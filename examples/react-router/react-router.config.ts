// React Router framework mode, server-rendered (the default, said here).
import type { Config } from '@react-router/dev/config'

export default {
  ssr: true,
} satisfies Config
